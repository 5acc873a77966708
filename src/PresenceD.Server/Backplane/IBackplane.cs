using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Backplane;

/// <summary>
/// What a node shares with the other nodes of its cluster. The room hub calls it after each local change,
/// under the room's presence lock so events leave in the order members saw them; none of these calls
/// blocks on the network. The async ones are only for questions about rooms this node does not hold.
/// </summary>
internal interface IBackplane : IAsyncDisposable
{
    /// <summary>False for the memory backplane: every other member is remote-free and local.</summary>
    bool IsClustered { get; }

    BackplaneHealth Health { get; }

    /// <summary>Connects (a Redis that is down is not an error: the node starts degraded and heals).</summary>
    void Start();

    /// <summary>The first local member joined: subscribe to the room and load its remote members, then mark <paramref name="presence"/> ready.</summary>
    void OpenRoom(string room, RoomPresence presence);

    /// <summary>The room's last local member left: unsubscribe unless a newer open of the same room happened since.</summary>
    void CloseRoom(string room, RoomPresence presence);

    /// <summary>HELLO done: the connection counts as online cluster-wide.</summary>
    void SessionStarted(Session session);

    /// <summary>The connection ended.</summary>
    void SessionEnded(Session session);

    /// <summary>A member joined or changed meta or will. Caller holds the room's presence lock.</summary>
    void MemberUpserted(RoomMember member);

    /// <summary>A member left; <paramref name="willFrame"/> is its will MESSAGE when it vanished with one. Caller holds the presence lock.</summary>
    void MemberLeft(RoomMember member, ReadOnlySpan<byte> willFrame, bool hasWill);

    /// <summary>Queues a MESSAGE frame (already delivered locally) to the other nodes; false when it could not (degraded), counted as dropped.</summary>
    bool PublishMessage(RoomPresence presence, string room, ReadOnlySpan<byte> frame);

    /// <summary>
    /// Queues a MESSAGE of a history room (encoded with offset 0, not delivered yet): Redis assigns its offset
    /// and every node, this one included, fans it out from the channel. False when degraded (then deliver locally).
    /// </summary>
    bool PublishHistoryMessage(RoomPresence presence, ReadOnlySpan<byte> frameWithoutOffset);

    /// <summary>Reads a history room's epoch, last offset and the frames after <paramref name="from"/>; null when Redis cannot answer.</summary>
    ValueTask<HistoryRead?> ReadHistoryAsync(RoomPresence presence, long from);

    /// <summary>The room's members on every node, or null when the backplane cannot tell now.</summary>
    ValueTask<IReadOnlyList<RemoteMember>?> QueryRoomAsync(string room);

    /// <summary>Which of <paramref name="users"/> are online anywhere, or null when the backplane cannot tell now.</summary>
    ValueTask<IReadOnlyList<string>?> QueryOnlineAsync(IReadOnlyList<string> users);
}
