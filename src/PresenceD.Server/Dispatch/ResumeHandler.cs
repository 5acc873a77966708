using Microsoft.Extensions.Logging;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>
/// Resumable sessions, one node. A resumable connection that ends for a reason a session survives is suspended: its
/// memberships stay (nobody is told), its queue holds the rooms' frames (Connection.Resume.cs) and resume_window
/// starts. A HELLO with its token takes it over: same conn id, rooms, metas and wills; WELCOME, then the held
/// frames, then anything new (with auth jwt, minus the rooms the new token no longer allows: left as REFRESH leaves
/// them, and named in WELCOME). Otherwise the window's end, an overflow of resume_buffer or the drain ends it the
/// normal way: wills, then leaves; and past resume_max_sessions a drop is not suspended at all.
/// </summary>
internal sealed partial class Dispatcher
{
    // When the last resume_max_sessions warning was logged (wheel ms) and the refusals counted then: one line a minute at most.
    private long _capLoggedAtMs = long.MinValue;
    private long _refusedAtLastLog;
    private const long CapLogIntervalMs = 60_000;

    /// <summary>
    /// The resume of the session <paramref name="token"/> names by <paramref name="session"/>'s new connection; false
    /// (nothing changed, the HELLO gets a fresh session) when the token names no session of this user that can still
    /// resume. A session whose connection the server still thinks open is taken over too: that connection is closed
    /// with GOAWAY SUPERSEDED. Lock order: the resumed session's lock, then the resuming one's.
    /// </summary>
    private bool TryResume(Session session, string token, string user, uint rid, long windowMs, uint? features, SendBatch batch)
    {
        if (!_resumable.TryTake(token, user, out Session? old)) return false;
        Connection connection = session.Connection;
        Connection oldConnection = old.Connection;
        RoomMember[] rooms;
        int heldBytes;
        int leftCount;
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
                string newToken = ResumeTokens.New(_connIds.NodeId);
                session.User = old.User;
                session.ConnId = old.ConnId;
                // auth jwt: the resuming HELLO's token decides the rooms (session.AllowedRooms); those it no longer allows
                // are left below, and WELCOME names them.
                List<string>? left = RoomsNotAllowed(session, old.Rooms);
                Welcome welcome = NewWelcome(rid, session, newToken, windowMs, resumed: true, features, left);
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
                if (old.IsSuspended) ResumeCounters.Unsuspend();
                old.IsSuspended = false;
                suspendedMs = old.SuspendedAtMs == 0 ? 0 : _clock.NowMs - old.SuspendedAtMs;
                if (old.Suspension is not null) _wheel.Cancel(old.Suspension);
                rooms = old.TakeAllRooms();
                if (left is not null) rooms = LeaveNotAllowed(session, rooms, batch);
                foreach (RoomMember member in rooms) member.MoveTo(connection);
                session.AdoptRooms(rooms);
                leftCount = left?.Count ?? 0;
            }
        }
        ResumeCounters.CountResumed();
        _logger.LogInformation("conn {Conn} user {User} resumed from {Remote} after {SuspendedMs} ms suspended: {Rooms} rooms, {HeldBytes} held bytes, left {Left} rooms its new token does not allow",
            session.ConnId, session.User, connection.Remote, suspendedMs, rooms.Length, heldBytes, leftCount);
        return true;
    }

    /// <summary>The names of <paramref name="rooms"/> the resuming session's token does not allow; null when it allows them all.</summary>
    private static List<string>? RoomsNotAllowed(Session session, RoomMember[] rooms)
    {
        List<string>? left = null;
        foreach (RoomMember member in rooms)
        {
            if (!session.MayAccess(member.Room.Name)) (left ??= []).Add(member.Room.Name);
        }
        return left;
    }

    /// <summary>
    /// Leaves the rooms of <paramref name="rooms"/> the resuming token does not allow, as LEAVE and REFRESH do (leave diffs
    /// to the others, wills discarded), and returns the memberships that stay. Under both sessions' locks, as REFRESH's
    /// leaves are under the session's.
    /// </summary>
    private RoomMember[] LeaveNotAllowed(Session session, RoomMember[] rooms, SendBatch batch)
    {
        var kept = new List<RoomMember>(rooms.Length);
        foreach (RoomMember member in rooms)
        {
            if (session.MayAccess(member.Room.Name)) kept.Add(member);
            else _hub.Leave(member, deliverWill: false, batch);
        }
        return kept.ToArray();
    }

    /// <summary>
    /// The end of a resumable session's connection that holds: suspend it for resume_window. False when it is not to be
    /// suspended (not resumable, resume_window became 0 by a reload, or resume_max_sessions are suspended already): the
    /// caller ends it at once.
    /// </summary>
    private bool TrySuspend(Session session)
    {
        ServerOptions options = Options;
        long windowMs = (long)options.ResumeWindow.TotalMilliseconds;
        int cap = options.ResumeMaxSessions;
        lock (session.Sync)
        {
            // Taken over by a resume already (or ended by an overflow): nothing left to do here.
            if (session.Ended) return true;
            if (!session.HelloDone || session.ResumeToken.Length == 0 || windowMs <= 0) return false;
            if (!ResumeCounters.TrySuspend(cap))
            {
                CapReached(session, cap);
                return false;
            }
            session.IsSuspended = true;
            session.SuspendedAtMs = _clock.NowMs;
            session.Suspension ??= new SuspensionTimer(session, _expireSuspended);
            _wheel.Schedule(session.Suspension, session.SuspendedAtMs + windowMs);
        }
        return true;
    }

    /// <summary>
    /// resume_max_sessions sessions are suspended: this one ends now. Counted always; logged at the first refusal and
    /// then at most once a minute, with the refusals since the last line, so a blip at the cap does not flood the log.
    /// </summary>
    private void CapReached(Session session, int cap)
    {
        long now = _clock.NowMs;
        long last = Volatile.Read(ref _capLoggedAtMs);
        if (last != long.MinValue && now - last < CapLogIntervalMs) return;
        if (Interlocked.CompareExchange(ref _capLoggedAtMs, now, last) != last) return;
        long refused = ResumeCounters.Refused;
        long since = refused - Interlocked.Exchange(ref _refusedAtLastLog, refused);
        _logger.LogWarning("resume_max_sessions {Cap} sessions are suspended: conn {Conn} user {User} ends at once (wills, then leaves) instead of being suspended; {Refused} refused since the last such line (presenced_sessions_refused_total; at most one line a minute)",
            cap, session.ConnId, session.User, since);
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
            if (session.IsSuspended) ResumeCounters.Unsuspend();
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
