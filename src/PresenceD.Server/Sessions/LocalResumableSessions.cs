using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace PresenceD.Server.Sessions;

/// <summary>This node's resumable sessions by token (the standalone <see cref="IResumableSessions"/>).</summary>
internal sealed class LocalResumableSessions : IResumableSessions
{
    private readonly ConcurrentDictionary<string, Session> _byToken = new(StringComparer.Ordinal);

    public void Register(Session session, string token)
    {
        session.ResumeToken = token;
        _byToken[token] = session;
    }

    public bool TryTake(string token, string user, [NotNullWhen(true)] out Session? session)
    {
        if (_byToken.TryGetValue(token, out session) && session.User == user
            && _byToken.TryRemove(new KeyValuePair<string, Session>(token, session)))
        {
            return true;
        }
        session = null;
        return false;
    }

    public void Forget(Session session)
    {
        if (session.ResumeToken.Length > 0) _byToken.TryRemove(new KeyValuePair<string, Session>(session.ResumeToken, session));
    }

    public IEnumerable<Session> Suspended => _byToken.Values.Where(s => s.IsSuspended);
}
