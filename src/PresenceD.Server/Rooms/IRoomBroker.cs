namespace PresenceD.Server.Rooms;

/// <summary>
/// How one local room reaches its members on other nodes. Chosen when the room is created (standalone: there
/// is nobody to reach; cluster: the room's Redis channel and keys) and owner of the room's history. The calls
/// that report a local change run under the room's lock, so other nodes hear of changes in the order local
/// members saw them; none of them blocks on the network.
/// </summary>
internal interface IRoomBroker
{
    /// <summary>Completes once the room's members on other nodes are known (at once standalone): a joiner waits
    /// for it, so its JOINED already lists them.</summary>
    Task Ready { get; }

    /// <summary>The room's message history (<see cref="NoHistory"/> when history_rooms does not match it).</summary>
    IRoomHistory History { get; }

    /// <summary>The room was published in the index by its first local member: subscribe and load the remote members, then complete <see cref="Ready"/>.</summary>
    void Open();

    /// <summary>The room's last local member left and the room was retired: unsubscribe.</summary>
    void Close();

    /// <summary>A member joined or changed meta or will. Caller holds the room's lock.</summary>
    void MemberUpserted(RoomMember member);

    /// <summary>A member left; <paramref name="willFrame"/> is its will MESSAGE when it vanished with one. Caller holds the room's lock.</summary>
    void MemberLeft(RoomMember member, ReadOnlySpan<byte> willFrame, bool hasWill);

    /// <summary>Hands a MESSAGE frame, already delivered locally, to the other nodes; false (counted as dropped) when they cannot be reached now.</summary>
    bool Forward(ReadOnlySpan<byte> frame);

    /// <summary>A session's membership arrived from another node: its mark on the room's channel (Room.HandOver.cs). Caller holds the room's lock.</summary>
    void AnnounceCut(string conn);

    /// <summary>A departing membership was released at its mark: the acknowledgement on the room's channel. Caller holds the room's lock.</summary>
    void AcknowledgeCut(string conn);
}
