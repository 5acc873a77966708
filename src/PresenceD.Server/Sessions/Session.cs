using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;

namespace PresenceD.Server.Sessions;

/// <summary>
/// Per-connection protocol state: who the client is and which rooms it joined. The connection's handler: it
/// passes each frame and the connection's end to the dispatcher.
/// </summary>
/// <remarks>
/// Threads: the connection's receive path runs dispatch; the end runs on a pool thread after a close requested
/// anywhere (timer wheel, a slow consumer found by fan-out, drain). Lock order: docs/architecture.md.
/// </remarks>
internal sealed class Session(Connection connection, ISessionHost host) : IConnectionHandler
{
    private RoomMember[] _rooms = [];

    public Connection Connection { get; } = connection;

    /// <summary>Guards joins, leaves, updates and the end of this session (the session's own monitor: no lock object per connection).</summary>
    public object Sync => this;

    public bool HelloDone { get; set; }

    /// <summary>publish_rate state; touched by the receive path only.</summary>
    public TokenBucket PublishBucket;

    /// <summary>True once the end ran: no join may succeed after it.</summary>
    public bool Ended { get; set; }

    public string User { get; set; } = "";

    public string ConnId { get; set; } = "";

    public string ClientName { get; set; } = "";

    /// <summary>Room patterns from the JWT (null: every room is allowed, as with auth none).</summary>
    public string[]? AllowedRooms { get; set; }

    /// <summary>Whom ONLINE may report to this session (online_visibility and the JWT see claim).</summary>
    public UserVisibility Visibility { get; set; } = UserVisibility.Everyone;

    /// <summary>Joined rooms; copy-on-write (at most max_rooms_per_connection) so PUBLISH reads it without a lock.</summary>
    public RoomMember[] Rooms => Volatile.Read(ref _rooms);

    /// <summary>The token a HELLO resumes this session with ("" when it is not resumable).</summary>
    public string ResumeToken { get; set; } = "";

    /// <summary>True from the suspension (the connection gone, the session kept) until it resumed or ended; under <see cref="Sync"/>.</summary>
    public bool IsSuspended { get; set; }

    /// <summary>When the suspension began, in the wheel clock's ms (for the resume log line).</summary>
    public long SuspendedAtMs { get; set; }

    /// <summary>The end of resume_window while suspended.</summary>
    public SuspensionTimer? Suspension { get; set; }

    public ValueTask OnRequest(ref ClientRequest request, SendBatch batch) => host.Dispatch(this, ref request, batch);

    public void OnClosing(CloseReason reason) => host.End(this, reason);

    public void OnHeldOverflow() => host.HeldOverflowed(this);

    /// <summary>A resume: this session takes over the memberships of the session it resumes (under both sessions' locks).</summary>
    public void AdoptRooms(RoomMember[] rooms) => Volatile.Write(ref _rooms, rooms);

    /// <summary>The membership of the room with this name, or null (a linear scan: at most max_rooms_per_connection).</summary>
    public RoomMember? FindRoom(ReadOnlySpan<char> room)
    {
        foreach (RoomMember member in Rooms)
        {
            if (room.SequenceEqual(member.Room.Name)) return member;
        }
        return null;
    }

    public void AddRoom(RoomMember member)
    {
        RoomMember[] rooms = _rooms;
        var grown = new RoomMember[rooms.Length + 1];
        rooms.CopyTo(grown, 0);
        grown[^1] = member;
        Volatile.Write(ref _rooms, grown);
    }

    public void RemoveRoom(RoomMember member)
    {
        RoomMember[] rooms = _rooms;
        int index = Array.IndexOf(rooms, member);
        if (index < 0) return;
        var shrunk = new RoomMember[rooms.Length - 1];
        Array.Copy(rooms, 0, shrunk, 0, index);
        Array.Copy(rooms, index + 1, shrunk, index, rooms.Length - index - 1);
        Volatile.Write(ref _rooms, shrunk);
    }

    /// <summary>Takes every membership out (the end).</summary>
    public RoomMember[] TakeAllRooms() => Interlocked.Exchange(ref _rooms, []);

    /// <summary>True when the JWT's rooms claim (or auth none) allows <paramref name="room"/>.</summary>
    public bool MayAccess(string room)
    {
        string[]? patterns = AllowedRooms;
        if (patterns is null) return true;
        foreach (string pattern in patterns)
        {
            if (pattern.EndsWith('*') ? room.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal) : room == pattern) return true;
        }
        return false;
    }
}
