using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Sessions;

/// <summary>What runs a session's requests and its end: the dispatcher (one per daemon).</summary>
internal interface ISessionHost
{
    ValueTask Dispatch(Session session, ref ClientRequest request, SendBatch batch);

    void End(Session session, CloseReason reason);

    /// <summary>The frames held for <paramref name="session"/>, suspended, passed resume_buffer.</summary>
    void HeldOverflowed(Session session);
}
