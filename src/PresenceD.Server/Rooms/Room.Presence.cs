using System.Buffers;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Rooms;

/// <summary>A room's local presence changes: JOINED to the joiner and a PRESENCE_DIFF to everyone else, each told to the broker.</summary>
internal sealed partial class Room
{
    /// <summary>
    /// The second half of a JOIN (the member is in the set, not yet visible): JOINED with the snapshot and any
    /// recovered messages to the joiner, then the diff to everyone else. <paramref name="read"/> is what
    /// <see cref="IRoomHistory.ReadForJoinAsync"/> returned. False (nothing done) when the read is stale and this
    /// is not the last try. Caller holds the session's lock.
    /// </summary>
    public bool CompleteJoin(RoomMember member, in JoinSince since, uint rid, HistoryRead? read, bool lastTry, SendBatch batch)
    {
        lock (Sync)
        {
            using var replay = new FrameBuffer(256);
            if (!History.PrepareJoined(since, read, lastTry, replay, batch, out JoinedHistory joined)) return false;
            SendJoined(member, rid, joined, replay, batch);
            LocalConnections++;
            AddUser(member.User);
            member.Visible = true;
            SendDiff(member, joined: member.Meta, left: null, hasJoin: true, hasLeave: false, batch);
            Broker.MemberUpserted(member);
        }
        return true;
    }

    /// <summary>
    /// JOIN of a room already joined: a fresh snapshot, meta acts as UPDATE, will replaced. <paramref name="read"/>:
    /// a read of the room's history when the node knew no epoch (<see cref="IRoomHistory.EpochUnknown"/>); it names
    /// the epoch but serves no since (a re-JOIN of a history kept in Redis never recovers). Caller holds the session's lock.
    /// </summary>
    public void Rejoin(RoomMember member, byte[]? meta, byte[]? will, in JoinSince since, HistoryRead? read, uint rid, SendBatch batch)
    {
        lock (Sync)
        {
            byte[]? old = member.Meta;
            bool changed = !MetaEquals(old, meta);
            member.Meta = meta;
            member.Will = will;
            using var replay = new FrameBuffer(256);
            History.PrepareJoined(read is null ? since : default, read, lastTry: true, replay, batch, out JoinedHistory joined);
            SendJoined(member, rid, joined, replay, batch);
            if (changed) SendDiff(member, joined: meta, left: old, hasJoin: true, hasLeave: true, batch);
            Broker.MemberUpserted(member);
        }
    }

    /// <summary>UPDATE: a leave with the old meta and a join with the new one, in one diff, when it changed.</summary>
    public void Update(RoomMember member, byte[]? meta, SendBatch batch)
    {
        lock (Sync)
        {
            byte[]? old = member.Meta;
            if (MetaEquals(old, meta)) return;
            member.Meta = meta;
            SendDiff(member, joined: meta, left: old, hasJoin: true, hasLeave: true, batch);
            Broker.MemberUpserted(member);
        }
    }

    /// <summary>
    /// Hides the member (it stays in the member set: the hub removes it next); delivers its will first when
    /// asked (it vanished without LEAVE or BYE).
    /// </summary>
    public void Leave(RoomMember member, bool deliverWill, SendBatch batch)
    {
        lock (Sync)
        {
            if (!member.Visible) return;
            member.Visible = false;
            EndCut(member);
            LocalConnections--;
            RemoveUser(member.User);
            byte[]? will = member.Will;
            member.Will = null;
            bool hasWill = deliverWill && will is not null;
            ReadOnlySpan<byte> willFrame = default;
            if (hasWill)
            {
                FrameBuffer frame = batch.NewFrame();
                History.AppendLocal(member, new ReadOnlySequence<byte>(will!), frame);
                RoomFanout.Deliver(this, frame.WrittenSpan, except: member.Connection, batch);
                willFrame = frame.WrittenSpan;
            }
            // The broker copies the will frame before the diff below takes the batch's frame buffer.
            Broker.MemberLeft(member, willFrame, hasWill);
            SendDiff(member, joined: null, left: member.Meta, hasJoin: false, hasLeave: true, batch);
        }
    }

    /// <summary>
    /// Writes up to <paramref name="max"/> visible members (local first, then remote), skipping
    /// <paramref name="except"/>; returns how many. Caller holds <see cref="Sync"/>, so the set cannot change
    /// between counting and writing.
    /// </summary>
    public int WriteMembers(ref MessagePackWriter w, int max, RoomMember? except)
    {
        int written = 0;
        foreach (RoomMember other in Members)
        {
            if (written == max) return written;
            if (!other.Visible || ReferenceEquals(other, except)) continue;
            ServerFrames.WriteMember(ref w, other.User, other.ConnId, other.Meta, other.Meta is not null);
            written++;
        }
        foreach (RemoteMember remote in RemoteMembers)
        {
            if (written == max) return written;
            ServerFrames.WriteMember(ref w, remote.User, remote.Conn, remote.Meta, remote.Meta is not null);
            written++;
        }
        return written;
    }

    private void SendJoined(RoomMember member, uint rid, in JoinedHistory joined, FrameBuffer replay, SendBatch batch)
    {
        int limit = Hub.Options.Current.PresenceLimit;
        int others = member.Visible ? Connections - 1 : Connections;
        long total = others + 1;
        int listed = (int)Math.Min(total, Math.Max(limit, 1));
        var state = (Member: member, Rid: rid, Joined: joined, Listed: listed, Total: total, Replay: replay);
        member.Connection.Reply(state, static (output, s) =>
        {
            RoomMember self = s.Member;
            MessagePackWriter w = ServerFrames.BeginJoined(output, s.Rid, self.Room.Name, s.Joined.Epoch, (ulong)s.Joined.LastOffset, s.Listed, out int start);
            ServerFrames.WriteMember(ref w, self.User, self.ConnId, self.Meta, self.Meta is not null);
            self.Room.WriteMembers(ref w, s.Listed - 1, except: self);
            ServerFrames.EndJoined(output, ref w, start, s.Joined.Recovered, s.Total);
            if (s.Joined.Recovered) output.Write(s.Replay.WrittenSpan);
        }, batch);
    }

    /// <summary>One PRESENCE_DIFF about <paramref name="member"/> to every other visible member.</summary>
    private void SendDiff(RoomMember member, byte[]? joined, byte[]? left, bool hasJoin, bool hasLeave, SendBatch batch)
    {
        FrameBuffer frame = batch.NewFrame();
        MessagePackWriter w = ServerFrames.BeginPresenceDiff(frame, Name, hasJoin ? 1 : 0, out int start);
        if (hasJoin) ServerFrames.WriteMember(ref w, member.User, member.ConnId, joined, joined is not null);
        ServerFrames.WriteDiffLeavesHeader(ref w, hasLeave ? 1 : 0);
        if (hasLeave) ServerFrames.WriteMember(ref w, member.User, member.ConnId, left, left is not null);
        ServerFrames.EndFrame(frame, ref w, start);
        RoomFanout.Deliver(this, frame.WrittenSpan, except: member.Connection, batch);
    }
}
