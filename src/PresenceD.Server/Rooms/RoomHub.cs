using System.Buffers;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Backplane;
using PresenceD.Server.Connections;
using PresenceD.Server.Fanout;
using PresenceD.Server.History;
using PresenceD.Server.Hosting;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Rooms;

/// <summary>
/// Where sessions meet rooms: join, leave, update, publish and session end, each keeping the room
/// index, the room's presence state, history and the members' views consistent. Joins, leaves, updates
/// and history appends of one room are ordered by the room's presence lock; publishes to rooms without
/// history take no lock at all.
/// </summary>
internal sealed class RoomHub
{
    private readonly ServerContext _server;

    public RoomHub(ServerContext server) => _server = server;

    public RoomIndex<RoomMember> Index { get; } = new();

    private IBackplane Backplane => _server.Backplane;

    /// <summary>
    /// JOIN of a room this session is not in yet. Caller holds the session lock and validated the request.
    /// Returns null when the join is done; else (cluster, first local member) a task that completes once the
    /// room's remote members are loaded: the caller awaits it, then calls <see cref="CompleteJoin"/>.
    /// </summary>
    public Task? Join(Session session, string roomName, byte[]? meta, byte[]? will, in JoinSince since, uint rid, out RoomMember member)
    {
        member = new RoomMember(session) { Meta = meta, Will = will };
        Room<RoomMember> room = Index.Join(roomName, member, out int slot);
        member.Room = room;
        member.Slot = slot;
        member.Presence = PresenceOf(room);
        session.AddRoom(member);
        if (!member.Presence.IsReady || IsClusterHistory(member.Presence)) return member.Presence.Ready;
        CompleteJoin(member, since, rid, null);
        return null;
    }

    /// <summary>
    /// The rest of a JOIN that had to wait for <paramref name="ready"/> (the room's remote members) and, for a
    /// history room in a cluster, for a read of its Redis history; read again when the node delivered newer
    /// messages meanwhile, and after three tries join without recovery.
    /// </summary>
    public async ValueTask FinishJoinAsync(RoomMember member, Task ready, JoinSince since, uint rid)
    {
        await ready.ConfigureAwait(false);
        for (int attempt = 1; ; attempt++)
        {
            HistoryRead? read = null;
            if (IsClusterHistory(member.Presence))
            {
                long from = ClusterHistory.ReadFrom(member.Presence, since.Present, since.Epoch, since.Offset);
                read = await Backplane.ReadHistoryAsync(member.Presence, from).ConfigureAwait(false);
            }
            lock (member.Session.Sync)
            {
                if (member.Session.Ended) return;
                if (CompleteJoin(member, since, rid, read, lastTry: attempt == 3)) return;
            }
        }
    }

    /// <summary>Second half of a JOIN: JOINED to the joiner, a diff to everyone else. Caller holds the session lock.
    /// False (nothing done) when <paramref name="read"/> is older than what the room already delivered.</summary>
    private bool CompleteJoin(RoomMember member, in JoinSince since, uint rid, HistoryRead? read, bool lastTry = true)
    {
        lock (member.Presence.Sync)
        {
            if (read is not null && !ClusterHistory.Advance(_server, member.Room, member.Presence, read))
            {
                if (!lastTry) return false;
                read = null;
            }
            SendJoined(member, rid, since, read);
            member.Presence.AddLocal(member.Session.User);
            member.Visible = true;
            SendDiff(member, joined: member.Meta, left: null, hasJoin: true, hasLeave: false);
            Backplane.MemberUpserted(member);
        }
        FlushBatch.Current.Flush();
        return true;
    }

    /// <summary>JOIN of a room already joined: fresh snapshot, meta acts as UPDATE, will replaced.</summary>
    public void Rejoin(RoomMember member, byte[]? meta, byte[]? will, in JoinSince since, uint rid)
    {
        lock (member.Presence.Sync)
        {
            byte[]? old = member.Meta;
            bool changed = !MetaEquals(old, meta);
            member.Meta = meta;
            member.Will = will;
            SendJoined(member, rid, since, null);
            if (changed) SendDiff(member, joined: meta, left: old, hasJoin: true, hasLeave: true);
            Backplane.MemberUpserted(member);
        }
        FlushBatch.Current.Flush();
    }

    /// <summary>UPDATE: a leave with the old meta and a join with the new one, in one diff, when it changed.</summary>
    public void Update(RoomMember member, byte[]? meta)
    {
        lock (member.Presence.Sync)
        {
            byte[]? old = member.Meta;
            if (MetaEquals(old, meta)) return;
            member.Meta = meta;
            SendDiff(member, joined: meta, left: old, hasJoin: true, hasLeave: true);
            Backplane.MemberUpserted(member);
        }
        FlushBatch.Current.Flush();
    }

    /// <summary>Takes the member out of its room; delivers its will first when asked (vanished without LEAVE/BYE).</summary>
    public void Leave(RoomMember member, bool deliverWill)
    {
        Session session = member.Session;
        RoomPresence presence = member.Presence;
        lock (presence.Sync)
        {
            if (member.Visible)
            {
                member.Visible = false;
                presence.RemoveLocal(session.User);
                byte[]? will = member.Will;
                member.Will = null;
                bool hasWill = deliverWill && will is not null;
                // The will frame is still in the scratch buffer: the backplane copies it before the diff reuses it.
                FrameBuffer? willFrame = null;
                if (hasWill) PublishLocked(member, new ReadOnlySequence<byte>(will!), out willFrame);
                Backplane.MemberLeft(member, willFrame is null ? default : willFrame.WrittenSpan, hasWill);
                SendDiff(member, joined: null, left: member.Meta, hasJoin: false, hasLeave: true);
            }
        }
        if (Index.Leave(member.Room, member.Slot) && Backplane.IsClustered) Backplane.CloseRoom(member.Room.Name, presence);
        session.RemoveRoom(member);
    }

    /// <summary>
    /// PUBLISH from a member: encoded once, queued to every other visible member, then handed to the
    /// backplane as the same bytes. Returns deliveries; <paramref name="crossNodeFailed"/> when the other
    /// nodes could not be reached (the reply is then DEGRADED).
    /// </summary>
    public int Publish(RoomMember member, in ReadOnlySequence<byte> payload, out bool crossNodeFailed)
    {
        RoomPresence presence = member.Presence;
        FrameBuffer frame;
        int delivered;
        if (!presence.HistoryEnabled)
        {
            frame = RoomBroadcaster.Scratch;
            Session session = member.Session;
            ServerFrames.Message(frame, member.Room.Name, session.User, session.ConnId, payload, 0);
            delivered = RoomBroadcaster.Deliver(member.Room, frame.WrittenSpan, except: session);
            crossNodeFailed = Backplane.IsClustered && !Backplane.PublishMessage(presence, member.Room.Name, frame.WrittenSpan);
            return delivered;
        }
        if (IsClusterHistory(presence))
        {
            // Redis assigns the offset; every node, this one too, fans it out when it comes back on the channel.
            frame = RoomBroadcaster.Scratch;
            ServerFrames.Message(frame, member.Room.Name, member.Session.User, member.Session.ConnId, payload, 0);
            crossNodeFailed = !Backplane.PublishHistoryMessage(presence, frame.WrittenSpan);
            return crossNodeFailed ? RoomBroadcaster.Deliver(member.Room, frame.WrittenSpan, except: member.Session) : 0;
        }
        lock (presence.Sync)
        {
            delivered = PublishLocked(member, payload, out frame);
            crossNodeFailed = Backplane.IsClustered && !Backplane.PublishMessage(presence, member.Room.Name, frame.WrittenSpan);
        }
        return delivered;
    }

    /// <summary>Session end: leaves every room (wills delivered unless BYE) and forgets the user if it was its last connection.</summary>
    public void EndSession(Session session, CloseReason reason)
    {
        RoomMember[] rooms;
        lock (session.Sync)
        {
            if (session.Ended) return;
            session.Ended = true;
            rooms = session.TakeAllRooms();
        }
        bool deliverWills = reason != CloseReason.Bye;
        foreach (RoomMember member in rooms) Leave(member, deliverWills);
        if (session.HelloDone)
        {
            _server.OnlineUsers.Remove(session.User);
            Backplane.SessionEnded(session);
        }
        FlushBatch.Current.Flush();
    }

    /// <summary>The presence state of a room, created on first use.</summary>
    public RoomPresence PresenceOf(Room<RoomMember> room)
    {
        if (room.State is RoomPresence existing) return existing;
        var created = new RoomPresence(_server.History.Matches(room.Name), Backplane.IsClustered);
        if (Interlocked.CompareExchange(ref room.State, created, null) is RoomPresence raced) return raced;
        if (Backplane.IsClustered) Backplane.OpenRoom(room.Name, created);
        return created;
    }

    private int PublishLocked(RoomMember member, in ReadOnlySequence<byte> payload, out FrameBuffer frame)
    {
        Session session = member.Session;
        frame = RoomBroadcaster.Scratch;
        RoomHistory? history = HistoryOf(member);
        if (history is null)
        {
            ServerFrames.Message(frame, member.Room.Name, session.User, session.ConnId, payload, 0);
        }
        else
        {
            while (true)
            {
                lock (history.SyncRoot)
                {
                    if (!history.IsRetired)
                    {
                        long offset = history.NextOffset();
                        ServerFrames.Message(frame, member.Room.Name, session.User, session.ConnId, payload, (ulong)offset);
                        history.Append(offset, frame.WrittenSpan, _server.Clock.NowMs);
                        break;
                    }
                }
                history = _server.History.Get(member.Room.Name)!; // dropped by the expiry sweep meanwhile: a new epoch
            }
        }
        return RoomBroadcaster.Deliver(member.Room, frame.WrittenSpan, except: session);
    }

    /// <summary>The standalone (in-process) history of the member's room; null in a cluster, where history lives in Redis.</summary>
    private RoomHistory? HistoryOf(RoomMember member) =>
        member.Presence.HistoryEnabled && !Backplane.IsClustered ? _server.History.Get(member.Room.Name) : null;

    private bool IsClusterHistory(RoomPresence presence) => presence.HistoryEnabled && Backplane.IsClustered;

    private void SendJoined(RoomMember member, uint rid, in JoinSince since, HistoryRead? clusterRead)
    {
        RoomPresence presence = member.Presence;
        RoomHistory? history = HistoryOf(member);
        string epoch = history?.Epoch ?? "";
        long lastOffset = history?.LastOffset ?? 0;
        using var replay = new FrameBuffer(256);
        bool recovered = history is not null && since.Present && since.Epoch == epoch && since.Offset <= long.MaxValue
            && history.TryReplay((long)since.Offset, _server.Clock.NowMs, replay, static (output, frame) => output.Write(frame.Span));
        if (IsClusterHistory(presence))
        {
            epoch = presence.HistoryEpoch;
            lastOffset = presence.LastDeliveredOffset;
            IEnumerable<byte[]>? frames = clusterRead is null || !since.Present ? null : ClusterHistory.Replay(clusterRead, presence, since.Epoch, since.Offset);
            recovered = frames is not null;
            foreach (byte[] frame in frames ?? []) replay.Write(frame);
        }
        if (!recovered) replay.Clear();
        int limit = _server.Options.PresenceLimit;
        int others = member.Visible ? presence.Connections - 1 : presence.Connections;
        long total = others + 1;
        int listed = (int)Math.Min(total, Math.Max(limit, 1));
        Connection connection = member.Session.Connection;
        var state = (Member: member, Rid: rid, Epoch: epoch, Offset: lastOffset, Listed: listed, Recovered: recovered, Total: total, Replay: replay);
        connection.Reply(state, static (output, s) =>
        {
            MessagePackWriter w = ServerFrames.BeginJoined(output, s.Rid, s.Member.Room.Name, s.Epoch, (ulong)s.Offset, s.Listed, out int start);
            Session self = s.Member.Session;
            ServerFrames.WriteMember(ref w, self.User, self.ConnId, s.Member.Meta, s.Member.Meta is not null);
            int written = 1;
            foreach (RoomMember other in s.Member.Room.Members)
            {
                if (written == s.Listed) break;
                if (!other.Visible || ReferenceEquals(other, s.Member)) continue;
                ServerFrames.WriteMember(ref w, other.Session.User, other.Session.ConnId, other.Meta, other.Meta is not null);
                written++;
            }
            foreach (RemoteMember remote in s.Member.Presence.Remote.Values)
            {
                if (written == s.Listed) break;
                ServerFrames.WriteMember(ref w, remote.User, remote.Conn, remote.Meta, remote.Meta is not null);
                written++;
            }
            // The visible set cannot change under the presence lock, so written == Listed here.
            ServerFrames.EndJoined(output, ref w, start, s.Recovered, s.Total);
            output.Write(s.Replay.WrittenSpan);
        });
    }

    /// <summary>One PRESENCE_DIFF about <paramref name="member"/> to every other visible member.</summary>
    private void SendDiff(RoomMember member, byte[]? joined, byte[]? left, bool hasJoin, bool hasLeave)
    {
        FrameBuffer frame = RoomBroadcaster.Scratch;
        Session session = member.Session;
        MessagePackWriter w = ServerFrames.BeginPresenceDiff(frame, member.Room.Name, hasJoin ? 1 : 0, out int start);
        if (hasJoin) ServerFrames.WriteMember(ref w, session.User, session.ConnId, joined, joined is not null);
        ServerFrames.WriteDiffLeavesHeader(ref w, hasLeave ? 1 : 0);
        if (hasLeave) ServerFrames.WriteMember(ref w, session.User, session.ConnId, left, left is not null);
        ServerFrames.EndFrame(frame, ref w, start);
        _server.Metrics.Delivered(RoomBroadcaster.Deliver(member.Room, frame.WrittenSpan, except: session));
    }

    private static bool MetaEquals(byte[]? a, byte[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}

/// <summary>JOIN's since = [epoch, offset], decoded.</summary>
internal readonly record struct JoinSince(bool Present, string Epoch, ulong Offset);
