using System.Diagnostics.CodeAnalysis;

namespace PresenceD.Server.Sessions;

/// <summary>
/// Where a HELLO's resume token finds the session it names: the one seam of resumption. Standalone (and today in a
/// cluster) <see cref="LocalResumableSessions"/> knows only this node's sessions; the cross-node hand-over will
/// implement this to ask the node the token's conn id names, through the backplane, and take the session over.
/// </summary>
internal interface IResumableSessions
{
    /// <summary>Makes <paramref name="session"/> resumable under <paramref name="token"/> (from <see cref="ResumeTokens.New"/>).</summary>
    void Register(Session session, string token);

    /// <summary>
    /// Takes the session <paramref name="token"/> names, when it belongs to <paramref name="user"/>: removed from the
    /// table, so of two HELLOs with one token exactly one gets it. An unknown token, or another user's, takes nothing
    /// (and another user's session stays resumable by its owner). The caller still checks, under the session's lock,
    /// that it has not ended meanwhile.
    /// </summary>
    bool TryTake(string token, string user, [NotNullWhen(true)] out Session? session);

    /// <summary>The session ended: its token resumes nothing from now on.</summary>
    void Forget(Session session);

    /// <summary>The resumable sessions of this node whose connection is gone (for the held-bytes gauge and the drain).</summary>
    IEnumerable<Session> Suspended { get; }
}
