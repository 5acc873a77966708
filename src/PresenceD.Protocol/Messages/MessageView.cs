using System.Buffers;

namespace PresenceD.Protocol.Messages;

/// <summary>A MESSAGE frame decoded without allocating: every field is a slice of the frame body.</summary>
public readonly struct MessageView
{
    /// <summary>Creates a view.</summary>
    public MessageView(ReadOnlySequence<byte> room, ReadOnlySequence<byte> fromUser, ReadOnlySequence<byte> fromConn, ReadOnlySequence<byte> payload, ulong offset)
    {
        Room = room;
        FromUser = fromUser;
        FromConn = fromConn;
        Payload = payload;
        Offset = offset;
    }

    /// <summary>Room name (UTF-8).</summary>
    public ReadOnlySequence<byte> Room { get; }
    /// <summary>Publisher's user id (UTF-8).</summary>
    public ReadOnlySequence<byte> FromUser { get; }
    /// <summary>Publisher's connection id (UTF-8).</summary>
    public ReadOnlySequence<byte> FromConn { get; }
    /// <summary>The payload.</summary>
    public ReadOnlySequence<byte> Payload { get; }
    /// <summary>History offset, 0 when the room keeps no history.</summary>
    public ulong Offset { get; }
}
