namespace PresenceD.Server.Rooms;

/// <summary>
/// What a node shares with the other nodes of its cluster: a broker per local room, the online index, and
/// answers about rooms this node does not hold. The memory backplane (standalone) answers every question
/// with "nobody else", so nothing above it asks whether the node is clustered.
/// </summary>
internal interface IBackplane : IAsyncDisposable
{
    /// <summary>What /readyz and the metrics report.</summary>
    BackplaneHealth Health { get; }

    /// <summary>What the start line names: `Memory`, or the Redis deployment in use (`Redis (cluster, 3 masters)`, `Redis (sentinel mymaster)`, `Redis (single server)`).</summary>
    string Description { get; }

    /// <summary>Connects (a Redis that is down is not an error: the node starts degraded and heals).</summary>
    void Start();

    /// <summary>The broker of a room being created; no side effect until its <see cref="IRoomBroker.Open"/>.</summary>
    IRoomBroker CreateBroker(Room room);

    /// <summary>HELLO done: the connection counts as online cluster-wide.</summary>
    void SessionStarted(string user, string connId);

    /// <summary>The connection ended.</summary>
    void SessionEnded(string user, string connId);

    /// <summary>The members on every node of a room this node holds no member of (standalone: none); null when the backplane cannot tell now (logged and counted).</summary>
    ValueTask<IReadOnlyList<RemoteMember>?> QueryRoomAsync(string room);

    /// <summary>Which of <paramref name="users"/> are online on other nodes (standalone: none); null when the backplane cannot tell now (logged and counted).</summary>
    ValueTask<IReadOnlyList<string>?> QueryOnlineAsync(IReadOnlyList<string> users);

    /// <summary>The node-to-node messages of a cross-node resume; null standalone (no other node).</summary>
    ISessionLink? SessionLink { get; }

    /// <summary>The connection's session moved to another node: this node stops refreshing it as online, and writes nothing (the new node owns it).</summary>
    void SessionMoved(string connId);
}
