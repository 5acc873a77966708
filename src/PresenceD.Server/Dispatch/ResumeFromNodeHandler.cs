using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>
/// The new node's side of a cross-node resume: a HELLO whose token names another node asks that node for the session
/// (TAKE), and the answer (GIVE) says what it was: conn id, user, memberships. The connection stages the frames its rooms
/// send it from here on; each room is opened and, once its members are known, the membership is adopted without a diff
/// and its cut marked (Room.HandOver.cs). The old node, once every mark has released its memberships, sends the frames it
/// held (HELD): WELCOME goes out, then those, then the staged ones. A refusal, or resume_handover_timeout passing, gives
/// the HELLO a fresh session; what this node had adopted by then ends the normal way (wills, then leaves).
/// </summary>
internal sealed partial class Dispatcher
{
    private readonly ConcurrentDictionary<string, Arrival> _arrivals = new(StringComparer.Ordinal);
    private long _arrivalSequence;

    /// <summary>
    /// Resumes the session <paramref name="token"/> names from <paramref name="node"/> on <paramref name="session"/>'s
    /// connection; false (nothing of it left here) when it could not.
    /// </summary>
    private async Task<bool> TryResumeFromNodeAsync(ISessionLink link, string node, Session session, string token, string user, uint rid, long windowMs, uint? features)
    {
        ServerOptions options = Options;
        long deadline = _clock.NowMs + (long)options.ResumeHandoverTimeout.TotalMilliseconds;
        var arrival = new Arrival(link.NodeId + ":" + Interlocked.Increment(ref _arrivalSequence).ToString(System.Globalization.CultureInfo.InvariantCulture));
        _arrivals[arrival.Id] = arrival;
        try
        {
            if (!link.Send(node, new SessionLinkMessage(SessionLinkKind.Take, arrival.Id, link.NodeId) { Token = token, User = user })) return false;
            SessionLinkMessage? give = await arrival.NextAsync(RemainingMs(deadline)).ConfigureAwait(false);
            if (give?.Kind != SessionLinkKind.Give)
            {
                if (give is null) HandOverFailed(session, node, "no answer to the take");
                return false;
            }
            RoomMember[]? members = await PlaceHandedOverAsync(session, give, options, deadline).ConfigureAwait(false);
            if (members is null)
            {
                HandOverFailed(session, node, "the rooms were not ready in time");
                return false;
            }
            lock (session.Sync)
            {
                if (session.Ended || _clock.NowMs >= deadline)
                {
                    Unplace(session, members);
                    HandOverFailed(session, node, session.Ended ? "the new connection closed" : "the rooms were not ready in time");
                    return false;
                }
                foreach (RoomMember member in members) member.Room.AdoptHandedOver(member, node);
                session.AdoptRooms(members);
            }
            SessionLinkMessage? held = await arrival.NextAsync(RemainingMs(deadline)).ConfigureAwait(false);
            if (held?.Kind != SessionLinkKind.Held || held.Held is null)
            {
                HandOverFailed(session, node, held is null ? "the held frames did not come in time" : "the old node lost the held frames");
                EndAdoptedPart(session);
                return false;
            }
            if (CompleteHandOver(session, held.Held, node, rid, windowMs, features)) return true;
            HandOverFailed(session, node, "the frames held there and staged here passed resume_buffer");
            EndAdoptedPart(session);
            return false;
        }
        finally
        {
            _arrivals.TryRemove(arrival.Id, out _);
        }
    }

    private long RemainingMs(long deadline) => Math.Max(0, deadline - _clock.NowMs);

    /// <summary>Stages the connection and places each membership (not visible yet), then waits for every room's members to be known.</summary>
    private async Task<RoomMember[]?> PlaceHandedOverAsync(Session session, SessionLinkMessage give, ServerOptions options, long deadline)
    {
        Connection connection = session.Connection;
        var members = new RoomMember[give.Rooms.Count];
        lock (session.Sync)
        {
            if (session.Ended) return null;
            connection.Outbound.StartStaging(options.ResumeBuffer);
            session.User = give.User;
            session.ConnId = give.Conn;
            for (int i = 0; i < members.Length; i++)
            {
                HandedOverRoom room = give.Rooms[i];
                members[i] = new RoomMember(connection, give.User, give.Conn) { Meta = room.Meta, Will = room.Will };
                _hub.Place(room.Name, members[i]);
            }
        }
        Task ready = Task.WhenAll(members.Select(m => m.Room.Broker.Ready));
        if (await Task.WhenAny(ready, Task.Delay(TimeSpan.FromMilliseconds(RemainingMs(deadline)))).ConfigureAwait(false) == ready) return members;
        lock (session.Sync) Unplace(session, members);
        return null;
    }

    /// <summary>Takes placed memberships out again (never visible: nobody saw them) and forgets what the session took.</summary>
    private void Unplace(Session session, RoomMember[] members)
    {
        using SendBatch batch = SendBatch.Open();
        foreach (RoomMember member in members) _hub.Leave(member, deliverWill: false, batch);
        session.User = "";
        session.ConnId = "";
        session.Connection.Outbound.DropHeld();
    }

    /// <summary>The hand-over stopped after this node adopted the memberships: they end here the normal way, wills then leaves.</summary>
    private void EndAdoptedPart(Session session)
    {
        RoomMember[] rooms;
        string user;
        string conn;
        lock (session.Sync)
        {
            rooms = session.TakeAllRooms();
            user = session.User;
            conn = session.ConnId;
            session.User = "";
            session.ConnId = "";
        }
        session.Connection.Outbound.DropHeld();
        using (SendBatch batch = SendBatch.Open())
        {
            foreach (RoomMember member in rooms) _hub.Leave(member, deliverWill: true, batch);
        }
        // The old node wrote this connection online; nobody else will take it out.
        if (conn.Length > 0) Backplane.SessionEnded(user, conn);
    }

    private void HandOverFailed(Session session, string node, string why)
    {
        ResumeCounters.CountHandOverFailed();
        _logger.LogWarning("conn {Conn} from {Remote}: the resume from node {Node} failed ({Why}); the HELLO gets a fresh session",
            session.ConnId.Length > 0 ? session.ConnId : "(new)", session.Connection.Remote, node, why);
    }

    /// <summary>
    /// Every room moved and the held frames came: WELCOME, then the old node's frames, then the staged ones. False, with
    /// nothing sent, when the staged frames overflowed (some are lost: the caller ends what was adopted).
    /// </summary>
    private bool CompleteHandOver(Session session, byte[] held, string node, uint rid, long windowMs, uint? features)
    {
        Connection connection = session.Connection;
        using SendBatch batch = SendBatch.Open();
        RoomMember[] rooms;
        int leftCount;
        lock (session.Sync)
        {
            // The new connection closed meanwhile: its end left the adopted rooms the normal way; nothing to answer.
            if (session.Ended) return true;
            string token = ResumeTokens.New(_connIds.NodeId);
            rooms = session.Rooms;
            List<string>? left = RoomsNotAllowed(session, rooms);
            Welcome welcome = NewWelcome(rid, session, token, windowMs, resumed: true, features, left);
            if (!connection.FinishStaging(welcome, Welcome.WriteResumable, held, batch)) return false;
            session.User = _online.Add(session.User);
            session.HelloDone = true;
            _resumable.Register(session, token);
            if (left is not null)
            {
                rooms = LeaveNotAllowed(session, rooms, batch);
                session.AdoptRooms(rooms);
            }
            leftCount = left?.Count ?? 0;
        }
        Backplane.SessionStarted(session.User, session.ConnId);
        _ = EndUnfinishedCutsAsync(session, rooms);
        ResumeCounters.CountResumed();
        _logger.LogInformation("conn {Conn} user {User} resumed from {Remote}, handed over from node {Node}: {Rooms} rooms, {HeldBytes} held bytes, left {Left} rooms its new token does not allow",
            session.ConnId, session.User, connection.Remote, node, rooms.Length, held.Length, leftCount);
        return true;
    }

    /// <summary>
    /// A mark or acknowledgement normally comes back within a round trip of the HELD; one still missing after
    /// resume_handover_timeout was lost (a gap in the room's subscription), and the member would miss frames for good.
    /// </summary>
    private async Task EndUnfinishedCutsAsync(Session session, RoomMember[] rooms)
    {
        await Task.Delay(Options.ResumeHandoverTimeout).ConfigureAwait(false);
        foreach (RoomMember member in rooms)
        {
            if (!member.Room.EndUnfinishedCut(member)) continue;
            ResumeCounters.CountHandOverFailed();
            _logger.LogWarning("conn {Conn} room {Room}: the hand-over's mark or acknowledgement never came back through the room's channel; delivering everything from now on (frames around the cut may be missing or repeated)",
                session.ConnId, member.Room.Name);
        }
    }

    /// <summary>One resume waiting for the old node's answers (GIVE or REFUSE, then HELD), in the order they come.</summary>
    private sealed class Arrival(string id)
    {
        private readonly Channel<SessionLinkMessage> _answers = Channel.CreateUnbounded<SessionLinkMessage>(new UnboundedChannelOptions { SingleReader = true });

        public string Id { get; } = id;

        public void Answer(SessionLinkMessage message) => _answers.Writer.TryWrite(message);

        /// <summary>The next answer, or null when none came within <paramref name="timeoutMs"/>.</summary>
        public async Task<SessionLinkMessage?> NextAsync(long timeoutMs)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(timeoutMs));
            try
            {
                return await _answers.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
    }
}
