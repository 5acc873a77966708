using PresenceD.Server.Connections;

namespace PresenceD.Server.Rooms;

/// <summary>
/// One connection's membership of one room: what the room's member set stores and what the session keeps in
/// its joined list, so a disconnect touches only its own rooms (the two-way index of Redis's pubsub.c).
/// </summary>
internal sealed class RoomMember(Connection connection, string user, string connId)
{
    private volatile Connection _connection = connection;

    /// <summary>Where fan-out queues this member's frames: the connection that joined, or the one that resumed its session.</summary>
    public Connection Connection => _connection;

    /// <summary>The session resumed on <paramref name="successor"/> (its held frames already moved there): fan-out goes to it from now on.</summary>
    public void MoveTo(Connection successor) => _connection = successor;

    public string User { get; } = user;

    public string ConnId { get; } = connId;

    /// <summary>The room joined (set once the index placed the member).</summary>
    public Room Room { get; set; } = null!;

    /// <summary>Handle for <see cref="MemberSet{T}.Remove"/>.</summary>
    public int Slot { get; set; } = -1;

    /// <summary>
    /// Set under the room's lock once the joiner's JOINED is queued; fan-out skips members that are not
    /// visible yet, so a joiner never receives a MESSAGE or diff before its JOINED.
    /// </summary>
    public volatile bool Visible;

    /// <summary>The member's meta (null when none). Replaced, never mutated, under the room's lock.</summary>
    public byte[]? Meta { get; set; }

    /// <summary>The last-will payload (null when none).</summary>
    public byte[]? Will { get; set; }

    /// <summary>
    /// On the node a session is handed over to (Room.HandOver.cs): true from the member's arrival until the room's channel
    /// brings back the arrival's mark. Frames from the channel before the mark are the old node's to hold, not this one's.
    /// </summary>
    public volatile bool AwaitingMark;

    /// <summary>
    /// On the node a session is handed over to: the node it came from, until that node's acknowledgement comes through the
    /// room's channel. Its presence events and messages between the mark and the acknowledgement reached the member there.
    /// </summary>
    public volatile string? CutFrom;

    /// <summary>On the node a session is handed over from: where it goes, set until the room's mark releases the member here.</summary>
    public IDeparture? Departure { get; set; }
}
