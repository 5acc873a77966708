namespace PresenceD.Server.Rooms;

/// <summary>
/// A session this node is handing over to another node (the old node's side of a cross-node resume). Each of its
/// memberships carries it until the room's channel brings the new node's mark; the room then releases the member here
/// and tells it, so it knows when every room has moved.
/// </summary>
internal interface IDeparture
{
    /// <summary>The node the session goes to (its marks are the ones that release the memberships).</summary>
    string ToNode { get; }

    /// <summary>The membership of <paramref name="member"/> moved: its room no longer delivers to it here.</summary>
    void RoomReleased(RoomMember member);
}
