using PresenceD.Protocol.Messages;

namespace PresenceD.Server.Connections;

/// <summary>
/// What a connection hands its decoded frames and its end to: the protocol session above it. The
/// connection knows nothing of rooms or users beyond the two names it logs.
/// </summary>
internal interface IConnectionHandler
{
    /// <summary>The connection id given at HELLO ("" before), for log lines.</summary>
    string ConnId { get; }

    /// <summary>The user given at HELLO ("" before), for log lines.</summary>
    string User { get; }

    /// <summary>
    /// One decoded frame, on the receive path; frames queued to other connections go into <paramref name="batch"/>.
    /// Completes synchronously unless the request waits on the backplane: the receive path then waits for it
    /// before the next frame, so replies keep request order.
    /// </summary>
    ValueTask OnRequest(ref ClientRequest request, SendBatch batch);

    /// <summary>The connection is closing for <paramref name="reason"/>: called exactly once, on a pool thread,
    /// so whoever asked for the close may hold any lock.</summary>
    void OnClosing(CloseReason reason);

    /// <summary>The frames held for this connection's suspended session passed resume_buffer: the session must end.
    /// Called at most once, on a pool thread.</summary>
    void OnHeldOverflow();
}
