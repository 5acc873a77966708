using System.Buffers;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Dispatch.Auth;
using PresenceD.Server.Expiry;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>
/// Runs one decoded client frame of a session, and a session's end. The opcode switch lives here and nowhere
/// else; each op's handling is in the partial files beside it (HELLO, room ops, queries, REFRESH).
/// </summary>
internal sealed partial class Dispatcher : ISessionHost
{
    private readonly LiveOptions _options;
    private readonly IClock _clock;
    private readonly RoomHub _hub;
    private readonly OnlineUsers _online;
    private readonly ConnIds _connIds;
    private readonly JwtVerifier? _jwt;
    private readonly IResumableSessions _resumable;
    private readonly TimerWheel _wheel;
    private readonly ILogger _logger;
    private readonly Action<Session> _expireSuspended;

    public Dispatcher(LiveOptions options, IClock clock, RoomHub hub, OnlineUsers online, ConnIds connIds, JwtVerifier? jwt,
        IResumableSessions resumable, TimerWheel wheel, ILogger logger)
    {
        _options = options;
        _clock = clock;
        _hub = hub;
        _online = online;
        _connIds = connIds;
        _jwt = jwt;
        _resumable = resumable;
        _wheel = wheel;
        _logger = logger;
        _expireSuspended = session => EndSuspended(session, overflow: false);
        hub.Backplane.SessionLink?.Listen(OnLinkMessage);
    }

    public DispatchCounters Counters { get; } = new();

    public ResumeCounters ResumeCounters { get; } = new();

    /// <summary>Bytes held now for this node's suspended sessions (the gauge; walks them, at scrape time only).</summary>
    public long HeldBytes => _resumable.Suspended.Sum(s => (long)s.Connection.Outbound.HeldBytes);

    /// <summary>Sessions suspended now.</summary>
    public int SuspendedNow => ResumeCounters.SuspendedNow;

    private ServerOptions Options => _options.Current;

    private IBackplane Backplane => _hub.Backplane;

    /// <summary>
    /// Runs one request. Completes synchronously except when a cluster question must wait for Redis (JOIN of
    /// a room this node does not hold yet, PRESENCE, COUNT, ONLINE): the receive path then awaits it before
    /// the next frame, so replies keep request order. PUBLISH never waits.
    /// </summary>
    public ValueTask Dispatch(Session session, ref ClientRequest request, SendBatch batch)
    {
        Connection connection = session.Connection;
        if (!session.HelloDone)
        {
            if (request.Op == OpCode.Hello) return Hello(session, ref request, batch);
            connection.ProtocolViolation(CloseReason.ProtocolError, $"{request.Op} before HELLO", default, batch);
            return default;
        }
        switch (request.Op)
        {
            case OpCode.Publish: Publish(session, ref request, batch); break;
            case OpCode.Ping: Replies.Pong(connection, request.Rid, batch); break;
            case OpCode.Join: return Join(session, ref request, batch);
            case OpCode.Leave: Leave(session, ref request, batch); break;
            case OpCode.Update: Update(session, ref request, batch); break;
            case OpCode.Presence: return Presence(session, ref request, batch);
            case OpCode.Count: return Count(session, ref request, batch);
            case OpCode.Online: return Online(session, ref request, batch);
            case OpCode.Refresh: Refresh(session, ref request, batch); break;
            case OpCode.Bye: connection.RequestClose(CloseReason.Bye); break;
            case OpCode.Hello: connection.ProtocolViolation(CloseReason.ProtocolError, "HELLO repeated", default, batch); break;
            default: connection.ProtocolViolation(CloseReason.ProtocolError, $"unknown op {(int)request.Op}", default, batch); break;
        }
        return default;
    }

    /// <summary>
    /// The connection's end: a resumable session whose connection holds (it ended without BYE) is suspended instead
    /// (ResumeHandler.cs); otherwise the session ends: it leaves every room (wills delivered unless BYE), then the user
    /// is offline here if it was its last connection.
    /// </summary>
    public void End(Session session, CloseReason reason)
    {
        if (session.Connection.IsHolding && TrySuspend(session)) return;
        RoomMember[] rooms;
        lock (session.Sync)
        {
            if (session.Ended) return;
            session.Ended = true;
            rooms = session.TakeAllRooms();
        }
        _resumable.Forget(session);
        session.Connection.Outbound.DropHeld();
        LeaveAll(session, rooms, deliverWills: reason != CloseReason.Bye);
    }

    private void LeaveAll(Session session, RoomMember[] rooms, bool deliverWills)
    {
        using SendBatch batch = SendBatch.Open();
        foreach (RoomMember member in rooms) _hub.Leave(member, deliverWills, batch);
        if (session.HelloDone)
        {
            _online.Remove(session.User);
            Backplane.SessionEnded(session.User, session.ConnId);
        }
    }

    /// <summary>
    /// Checks a room name and turns it into a string; on failure answers ERROR (when rid != 0 or the op
    /// always replies) and returns null.
    /// </summary>
    private string? RoomName(Connection connection, in ReadOnlySequence<byte> room, uint rid, SendBatch batch, bool replyOnRidZero = true)
    {
        ErrorCode check = NameRules.Check(room, Options.NameMax);
        if (check != ErrorCode.None)
        {
            if (rid != 0 || replyOnRidZero) Error(connection, rid, check, check == ErrorCode.TooLarge ? "room name too long" : "invalid room name", batch);
            return null;
        }
        return Protocol.MessagePack.Utf8.GetString(room);
    }

    /// <summary>True (after answering TOO_LARGE, unless rid 0 asks for no reply) when meta is over meta_max.</summary>
    private bool MetaTooLarge(Connection connection, ref ClientRequest request, bool replyOnRidZero, SendBatch batch)
    {
        if (!request.HasMeta || request.Meta.Length <= Options.MetaMax) return false;
        if (request.Rid != 0 || replyOnRidZero)
        {
            Error(connection, request.Rid, ErrorCode.TooLarge, $"meta over meta_max ({Options.MetaMax} bytes)", batch);
        }
        return true;
    }

    /// <summary>ERROR to the asker, counted by code.</summary>
    private void Error(Connection connection, uint rid, ErrorCode code, string message, SendBatch batch)
    {
        Counters.CountError(code);
        Replies.Error(connection, rid, code, message, batch);
    }
}
