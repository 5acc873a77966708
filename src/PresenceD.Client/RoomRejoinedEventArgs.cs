using System;

namespace PresenceD.Client;

/// <summary>
/// After a reconnect the client re-joined a room (or failed to). When <see cref="Recovered"/> is false, messages
/// published while the client was away may be lost and the application should treat its room state as stale.
/// </summary>
public sealed class RoomRejoinedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public RoomRejoinedEventArgs(string room, bool recovered, string epoch, ulong offset, Exception? error)
    {
        Room = room;
        Recovered = recovered;
        Epoch = epoch;
        Offset = offset;
        Error = error;
    }

    /// <summary>The room.</summary>
    public string Room { get; }

    /// <summary>True when the server replayed every message missed since the last one received.</summary>
    public bool Recovered { get; }

    /// <summary>The room's history epoch from the new JOINED ("" without history).</summary>
    public string Epoch { get; }

    /// <summary>The room's last offset from the new JOINED.</summary>
    public ulong Offset { get; }

    /// <summary>Why the re-join failed (the room is then no longer joined); null on success.</summary>
    public Exception? Error { get; }
}
