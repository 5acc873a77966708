using System;

namespace PresenceD.Client;

/// <summary>A MESSAGE published to a room this client joined (also raised for messages replayed by recovery).</summary>
public sealed class RoomMessageEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public RoomMessageEventArgs(string room, string fromUser, string fromConn, byte[] payload, ulong offset)
    {
        Room = room;
        FromUser = fromUser;
        FromConn = fromConn;
        Payload = payload;
        Offset = offset;
    }

    /// <summary>The room.</summary>
    public string Room { get; }

    /// <summary>The publisher's user id.</summary>
    public string FromUser { get; }

    /// <summary>The publisher's connection id.</summary>
    public string FromConn { get; }

    /// <summary>The payload (owned by the handler).</summary>
    public byte[] Payload { get; }

    /// <summary>The room's history offset, 0 when the room keeps no history.</summary>
    public ulong Offset { get; }
}
