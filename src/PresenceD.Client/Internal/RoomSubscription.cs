using System.Text;

namespace PresenceD.Client.Internal;

/// <summary>
/// A room the application joined: what to re-join it with after a reconnect (meta, will, since) and its presence model.
/// Epoch and offset are written by the receive loop only.
/// </summary>
internal sealed class RoomSubscription
{
    public RoomSubscription(string room, byte[]? meta, byte[]? will)
    {
        Room = room;
        RoomUtf8 = Encoding.UTF8.GetBytes(room);
        Meta = meta;
        Will = will;
        Presence = new RoomPresence(room);
    }

    public string Room { get; }

    /// <summary>The name as sent on the wire, so MESSAGE frames are matched without decoding a string.</summary>
    public byte[] RoomUtf8 { get; }

    public byte[]? Meta { get; set; }

    public byte[]? Will { get; set; }

    public RoomPresence Presence { get; }

    /// <summary>Epoch of the last JOINED; null before the first.</summary>
    public string? Epoch { get; set; }

    /// <summary>Offset of the last MESSAGE received (or of the last JOINED when it did not recover).</summary>
    public ulong Offset { get; set; }
}
