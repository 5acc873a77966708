using PresenceD.Server.Rooms;

namespace PresenceD.Server.Sessions;

/// <summary>
/// One connection's membership of one room: what the room index stores and what the session keeps in
/// its joined list, so a disconnect touches only its own rooms (the two-way index of Redis's pubsub.c).
/// </summary>
internal sealed class RoomMember
{
    public RoomMember(Session session) => Session = session;

    public Session Session { get; }

    /// <summary>The room joined (set once the index placed the member).</summary>
    public Room<RoomMember> Room { get; set; } = null!;

    /// <summary>The room's presence state (cached from the room).</summary>
    public RoomPresence Presence { get; set; } = null!;

    /// <summary>Handle for <see cref="Room{T}.Remove"/>.</summary>
    public int Slot { get; set; } = -1;

    /// <summary>
    /// Set under the room's presence lock once the joiner's JOINED is queued; fan-out skips members that
    /// are not visible yet, so a joiner never receives a MESSAGE or diff before its JOINED.
    /// </summary>
    public volatile bool Visible;

    /// <summary>The member's meta (null when none). Replaced, never mutated, under the room's presence lock.</summary>
    public byte[]? Meta { get; set; }

    /// <summary>The last-will payload (null when none).</summary>
    public byte[]? Will { get; set; }
}
