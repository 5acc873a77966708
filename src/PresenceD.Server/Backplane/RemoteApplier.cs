using System.Text;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Fanout;
using PresenceD.Server.Hosting;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Backplane;

/// <summary>
/// Applies what other nodes said on a room channel to this node's copy of the room: messages are fanned out
/// to the local members as received (no re-encoding), presence events update the remote replica and send
/// the local members the same PRESENCE_DIFF they would get from a local change. Also installs snapshots
/// read from Redis (first join, resync), replaying the events that raced the read.
/// </summary>
internal sealed class RemoteApplier
{
    private readonly ServerContext _server;
    private readonly byte[] _nodeId;

    public RemoteApplier(ServerContext server)
    {
        _server = server;
        _nodeId = Encoding.UTF8.GetBytes(server.NodeId);
    }

    /// <summary>One envelope from room <paramref name="room"/>'s channel (on the subscriber's delivery thread).</summary>
    public void OnEnvelope(string room, byte[] envelope)
    {
        if (envelope.Length < 2) return;
        EnvelopeKind kind = Envelope.KindOf(envelope);
        ReadOnlySpan<byte> origin = Envelope.Origin(envelope);
        if (kind != EnvelopeKind.HistoryMessage && origin.SequenceEqual(_nodeId)) return; // delivered locally already
        if (_server.Hub.Index.Find(room) is not { State: RoomPresence presence } localRoom) return;
        switch (kind)
        {
            case EnvelopeKind.Message:
                if (presence.IsReady) _server.Metrics.Delivered(RoomBroadcaster.Deliver(localRoom, Envelope.Body(envelope), except: null));
                break;
            case EnvelopeKind.HistoryMessage:
                ClusterHistory.OnMessage(_server, localRoom, presence, Envelope.Body(envelope), origin.SequenceEqual(_nodeId));
                break;
            case EnvelopeKind.Upsert:
            case EnvelopeKind.Leave:
                MemberEvent member = Envelope.ReadMember(Envelope.Body(envelope));
                var remote = new RemoteMember(member.User, member.Conn, Encoding.UTF8.GetString(origin), member.Meta);
                lock (presence.Sync)
                {
                    presence.Recording?.Add(new RecordedChange(kind == EnvelopeKind.Leave, remote));
                    if (!presence.IsReady) break;
                    if (kind == EnvelopeKind.Upsert) Upsert(localRoom, presence, remote, sendDiff: true);
                    else Remove(localRoom, presence, remote.Conn, member.WillFrame, sendDiff: true);
                }
                break;
        }
        FlushBatch.Current.Flush();
    }

    /// <summary>Starts recording remote events of a room before its snapshot is read.</summary>
    public static void BeginSnapshot(RoomPresence presence)
    {
        lock (presence.Sync) presence.Recording ??= [];
    }

    /// <summary>
    /// Makes the replica equal to <paramref name="snapshot"/> (null: Redis could not be read; keep what is
    /// known) plus the events recorded since the read began, sending local members a diff for each
    /// difference, then marks the room ready.
    /// </summary>
    public void Install(Room<RoomMember> room, RoomPresence presence, IReadOnlyList<RemoteMember>? snapshot)
    {
        lock (presence.Sync)
        {
            List<RecordedChange>? recorded = presence.Recording;
            presence.Recording = null;
            if (snapshot is not null)
            {
                var target = new Dictionary<string, RemoteMember>(StringComparer.Ordinal);
                foreach (RemoteMember member in snapshot)
                {
                    if (member.Node != _server.NodeId) target[member.Conn] = member;
                }
                foreach (RecordedChange change in recorded ?? [])
                {
                    if (change.IsLeave) target.Remove(change.Member.Conn);
                    else target[change.Member.Conn] = change.Member;
                }
                bool send = presence.IsReady;
                foreach (RemoteMember known in presence.Remote.Values.ToList())
                {
                    if (!target.ContainsKey(known.Conn)) Remove(room, presence, known.Conn, null, send);
                }
                foreach (RemoteMember member in target.Values) Upsert(room, presence, member, send);
            }
            presence.MarkReady();
        }
        FlushBatch.Current.Flush();
    }

    private void Upsert(Room<RoomMember> room, RoomPresence presence, RemoteMember member, bool sendDiff)
    {
        if (presence.Remote.TryGetValue(member.Conn, out RemoteMember? known))
        {
            if (MetaEquals(known.Meta, member.Meta)) return;
            presence.Remote[member.Conn] = member;
            if (sendDiff) SendDiff(room, member, known);
            return;
        }
        presence.Remote.Add(member.Conn, member);
        presence.AddUser(member.User);
        if (sendDiff) SendDiff(room, member, null);
    }

    private void Remove(Room<RoomMember> room, RoomPresence presence, string conn, byte[]? willFrame, bool sendDiff)
    {
        if (!presence.Remote.Remove(conn, out RemoteMember? known)) return;
        presence.RemoveUser(known.User);
        if (!sendDiff) return;
        if (willFrame is not null) _server.Metrics.Delivered(RoomBroadcaster.Deliver(room, willFrame, except: null));
        SendDiff(room, null, known);
    }

    private void SendDiff(Room<RoomMember> room, RemoteMember? joined, RemoteMember? left)
    {
        FrameBuffer frame = RoomBroadcaster.Scratch;
        MessagePackWriter w = ServerFrames.BeginPresenceDiff(frame, room.Name, joined is null ? 0 : 1, out int start);
        if (joined is not null) ServerFrames.WriteMember(ref w, joined.User, joined.Conn, joined.Meta, joined.Meta is not null);
        ServerFrames.WriteDiffLeavesHeader(ref w, left is null ? 0 : 1);
        if (left is not null) ServerFrames.WriteMember(ref w, left.User, left.Conn, left.Meta, left.Meta is not null);
        ServerFrames.EndFrame(frame, ref w, start);
        _server.Metrics.Delivered(RoomBroadcaster.Deliver(room, frame.WrittenSpan, except: null));
    }

    private static bool MetaEquals(byte[]? a, byte[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
