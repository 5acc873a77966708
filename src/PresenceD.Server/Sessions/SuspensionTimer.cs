using PresenceD.Server.Expiry;

namespace PresenceD.Server.Sessions;

/// <summary>The end of a suspended session's resume_window, on the timer wheel: hands the expiry to a pool thread,
/// because ending a session takes session and room locks the wheel's thread must not wait on.</summary>
internal sealed class SuspensionTimer(Session session, Action<Session> expire) : WheelTimer
{
    protected internal override void OnExpired(long nowMs) =>
        ThreadPool.UnsafeQueueUserWorkItem(static timer => timer.Fire(), this, preferLocal: false);

    private void Fire() => expire(session);
}
