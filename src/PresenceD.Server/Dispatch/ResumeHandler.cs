using Microsoft.Extensions.Logging;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>
/// Resumable sessions, one node. A resumable connection that ends for a reason a session survives is suspended: its
/// memberships stay (nobody is told), its queue holds the rooms' frames (Connection.Resume.cs) and resume_window
/// starts. A HELLO with its token takes it over: same conn id, rooms, metas and wills; WELCOME, then the held
/// frames, then anything new. Otherwise the window's end, an overflow of resume_buffer or the drain ends it the
/// normal way: wills, then leaves.
/// </summary>
internal sealed partial class Dispatcher
{
    /// <summary>
    /// The resume of the session <paramref name="token"/> names by <paramref name="session"/>'s new connection; false
    /// (nothing changed, the HELLO gets a fresh session) when the token names no session of this user that can still
    /// resume. A session whose connection the server still thinks open is taken over too: that connection is closed
    /// with GOAWAY SUPERSEDED. Lock order: the resumed session's lock, then the resuming one's.
    /// </summary>
    private bool TryResume(Session session, string token, string user, uint rid, long windowMs, SendBatch batch)
    {
        if (!_resumable.TryTake(token, user, out Session? old)) return false;
        Connection connection = session.Connection;
        Connection oldConnection = old.Connection;
        RoomMember[] rooms;
        int heldBytes;
        long suspendedMs;
        lock (old.Sync)
        {
            if (old.Ended) return false;
            // Closing starts the holding at once (the close itself ends the old session's handler quietly: it has ended).
            if (!oldConnection.IsClosing) oldConnection.RequestClose(CloseReason.Superseded);
            // Closing for a reason that ends the session (BYE, a protocol error...): its own end is under way.
            if (!oldConnection.IsHolding) return false;
            lock (session.Sync)
            {
                // The new connection closed during its own HELLO: it cannot take the rooms; the old session ends by its window.
                if (session.Ended) return false;
                string newToken = ResumeTokens.New(old.ConnId);
                session.User = old.User;
                session.ConnId = old.ConnId;
                Welcome welcome = NewWelcome(rid, session, newToken, windowMs, resumed: true);
                if (!oldConnection.MoveHeldTo(connection, welcome, Welcome.WriteResumable, batch, out heldBytes))
                {
                    // resume_buffer overflowed: frames were lost, so the overflow's own end (wills, leaves) goes ahead.
                    session.User = "";
                    session.ConnId = "";
                    return false;
                }
                session.PublishBucket = old.PublishBucket;
                session.HelloDone = true;
                _resumable.Register(session, newToken);
                old.Ended = true;
                old.IsSuspended = false;
                suspendedMs = old.SuspendedAtMs == 0 ? 0 : _clock.NowMs - old.SuspendedAtMs;
                if (old.Suspension is not null) _wheel.Cancel(old.Suspension);
                rooms = old.TakeAllRooms();
                foreach (RoomMember member in rooms) member.MoveTo(connection);
                session.AdoptRooms(rooms);
            }
        }
        ResumeCounters.CountResumed();
        _logger.LogInformation("conn {Conn} user {User} resumed from {Remote} after {SuspendedMs} ms suspended: {Rooms} rooms, {HeldBytes} held bytes",
            session.ConnId, session.User, connection.Remote, suspendedMs, rooms.Length, heldBytes);
        return true;
    }

    /// <summary>
    /// The end of a resumable session's connection that holds: suspend it for resume_window. False when it is not to be
    /// suspended (not resumable, or resume_window became 0 by a reload): the caller ends it at once.
    /// </summary>
    private bool TrySuspend(Session session)
    {
        long windowMs = (long)Options.ResumeWindow.TotalMilliseconds;
        lock (session.Sync)
        {
            // Taken over by a resume already (or ended by an overflow): nothing left to do here.
            if (session.Ended) return true;
            if (!session.HelloDone || session.ResumeToken.Length == 0 || windowMs <= 0) return false;
            session.IsSuspended = true;
            session.SuspendedAtMs = _clock.NowMs;
            session.Suspension ??= new SuspensionTimer(session, _expireSuspended);
            _wheel.Schedule(session.Suspension, session.SuspendedAtMs + windowMs);
        }
        ResumeCounters.CountSuspended();
        return true;
    }

    /// <summary>The frames held for a suspended session passed resume_buffer: it ends now, the normal way.</summary>
    public void HeldOverflowed(Session session) => EndSuspended(session, overflow: true);

    /// <summary>The drain: every suspended session ends now (wills, then leaves), as its connection would have.</summary>
    public int EndSuspendedSessions()
    {
        int ended = 0;
        foreach (Session session in _resumable.Suspended.ToArray())
        {
            if (EndSuspended(session, overflow: false)) ended++;
        }
        return ended;
    }

    /// <summary>Ends a suspended session the normal way (wills, then leaves); false when a resume or another end came first.</summary>
    private bool EndSuspended(Session session, bool overflow)
    {
        RoomMember[] rooms;
        lock (session.Sync)
        {
            if (session.Ended) return false;
            session.Ended = true;
            session.IsSuspended = false;
            if (session.Suspension is not null) _wheel.Cancel(session.Suspension);
            rooms = session.TakeAllRooms();
        }
        _resumable.Forget(session);
        session.Connection.Outbound.DropHeld();
        ResumeCounters.CountExpired(overflow);
        LeaveAll(session, rooms, deliverWills: true);
        return true;
    }
}
