namespace PresenceD.Server.Rooms;

/// <summary>
/// Node-to-node messages of a cross-node resume (docs/cluster.md, "Resumable sessions in a cluster"), on each node's own
/// channel. Standalone there is no other node, and no link (<see cref="IBackplane.SessionLink"/> is null).
/// </summary>
internal interface ISessionLink
{
    /// <summary>This node's id: where the answers to its requests come back.</summary>
    string NodeId { get; }

    /// <summary>Where messages to this node go (the dispatcher); set once, before the backplane starts.</summary>
    void Listen(Action<SessionLinkMessage> receiver);

    /// <summary>Queues <paramref name="message"/> for <paramref name="toNode"/>; false when the backplane cannot take it now (logged).</summary>
    bool Send(string toNode, SessionLinkMessage message);
}

internal enum SessionLinkKind : byte
{
    /// <summary>New node to old: give me the session this token names, for this user.</summary>
    Take = 1,
    /// <summary>Old node to new: the session (conn id, user, memberships); it now waits for each room's mark.</summary>
    Give = 2,
    /// <summary>Old node to new: no such session of this user can resume here (unknown token, ended, another taker won).</summary>
    Refuse = 3,
    /// <summary>Old node to new: every room moved; the frames held until each room's mark (null: lost, the session ends).</summary>
    Held = 4,
}

/// <summary>A membership as it moves: room, meta and will.</summary>
internal readonly record struct HandedOverRoom(string Name, byte[]? Meta, byte[]? Will);

/// <summary>One message of the hand-over. <see cref="Id"/> names the hand-over (the taker's request) in every answer.</summary>
internal sealed record SessionLinkMessage(SessionLinkKind Kind, string Id, string FromNode)
{
    public string Token { get; init; } = "";

    public string User { get; init; } = "";

    public string Conn { get; init; } = "";

    public IReadOnlyList<HandedOverRoom> Rooms { get; init; } = [];

    public byte[]? Held { get; init; }
}
