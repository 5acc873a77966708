using System.Text;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;

namespace PresenceD.Server.Backplane;

/// <summary>
/// One local room in the cluster: subscribed to the room's channel while the room has local members, its
/// members written to the room's presence keys, and what other nodes say on the channel applied to the room:
/// messages fanned out as received (no re-encoding), presence events applied to the room's replica with the
/// same PRESENCE_DIFF a local change gives. Also installs snapshots read from Redis (open, resync), replaying
/// the events that raced the read.
/// </summary>
internal sealed class RedisRoomBroker : IRoomBroker
{
    private readonly RedisBackplane _backplane;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Non-null while a snapshot is read from Redis: remote events applied meanwhile, to replay onto it. Under the room's lock.
    private List<(bool IsLeave, RemoteMember Member)>? _recording;

    public RedisRoomBroker(RedisBackplane backplane, Room room)
    {
        _backplane = backplane;
        Room = room;
        Keys = backplane.Deployment.Room(room.Name);
        History = backplane.HistoryRooms.Matches(room.Name) ? new RedisRoomHistory(backplane, this) : NoHistory.Instance;
    }

    public Room Room { get; }

    public RoomKeys Keys { get; }

    public Task Ready => _ready.Task;

    public IRoomHistory History { get; }

    public void Open()
    {
        Task subscribed = _backplane.Channels.Open(this);
        _ = LoadAsync(subscribed);
    }

    public void Close() => _backplane.Channels.Close(this);

    public void MemberUpserted(RoomMember member) => _backplane.Enqueue(UpsertCommand(member));

    public void MemberLeft(RoomMember member, ReadOnlySpan<byte> willFrame, bool hasWill)
    {
        byte[] leave = Envelope.ForMember(EnvelopeKind.Leave, _backplane.NodeIdBytes, member.User, member.ConnId, member.Meta, willFrame, hasWill);
        _backplane.Enqueue(BackplaneCommand.Run(CommandKind.Leave, _backplane.Scripts.Leave, Keys.Members, [member.ConnId, Keys.ChannelName, leave]));
    }

    public bool Forward(ReadOnlySpan<byte> frame)
    {
        if (_backplane.Health.State == BackplaneState.Degraded)
        {
            _backplane.Health.CountDropped(1);
            return false;
        }
        return _backplane.Queue.TryEnqueue(BackplaneCommand.Publish(Keys.Channel, Envelope.ForFrame(EnvelopeKind.Message, _backplane.NodeIdBytes, frame)));
    }

    public void AnnounceCut(string conn) => PublishCut(EnvelopeKind.CutMark, conn);

    public void AcknowledgeCut(string conn) => PublishCut(EnvelopeKind.CutAck, conn);

    // Queued in order with the node's other writes (the cut's point in the channel is where the queue puts it); a
    // cut lost to an outage ends the hand-over by its deadline.
    private void PublishCut(EnvelopeKind kind, string conn)
    {
        if (!_backplane.Queue.TryEnqueue(BackplaneCommand.Publish(Keys.Channel, Envelope.ForCut(kind, _backplane.NodeIdBytes, conn))))
        {
            _backplane.Logger.LogWarning("room {Room}: the {Kind} of conn {Conn} was not queued (redis writes backed up); the hand-over ends by its deadline", Room.Name, kind, conn);
        }
    }

    /// <summary>The upsert script call for a member, as of now (caller holds the room's lock or owns the member).</summary>
    internal BackplaneCommand UpsertCommand(RoomMember member)
    {
        byte[] stored = Envelope.ForMember(EnvelopeKind.Leave, _backplane.NodeIdBytes, member.User, member.ConnId, member.Meta, WillFrame(member), member.Will is not null);
        byte[] upsert = Envelope.ForMember(EnvelopeKind.Upsert, _backplane.NodeIdBytes, member.User, member.ConnId, member.Meta, default, false);
        return BackplaneCommand.Run(CommandKind.Presence, _backplane.Scripts.Upsert, Keys.Members,
            [member.ConnId, stored, _backplane.EntryTtlMs, _backplane.KeyTtlMs, _backplane.GapMaxMs, Keys.ChannelName, upsert]);
    }

    /// <summary>One envelope from the room's channel (on the subscriber's delivery thread): the entry point of cross-node traffic.</summary>
    public void OnEnvelope(byte[] envelope)
    {
        if (envelope.Length < 2) return;
        EnvelopeKind kind = Envelope.KindOf(envelope);
        bool fromThisNode = Envelope.Origin(envelope).SequenceEqual(_backplane.NodeIdBytes);
        if (kind is EnvelopeKind.CutMark or EnvelopeKind.CutAck)
        {
            OnCut(kind, envelope, fromThisNode);
            return;
        }
        if (kind != EnvelopeKind.HistoryMessage && fromThisNode) return; // delivered locally already
        using SendBatch batch = SendBatch.Open();
        switch (kind)
        {
            case EnvelopeKind.Message:
                // The origin matters only while a handed-over member waits for its cut (no string made otherwise).
                string? origin = Room.HasPendingCuts ? Encoding.UTF8.GetString(Envelope.Origin(envelope)) : null;
                if (Room.IsReady) RoomFanout.DeliverFromChannel(Room, Envelope.Body(envelope), origin, channelOrdered: false, except: null, batch);
                break;
            case EnvelopeKind.HistoryMessage:
                if (History is RedisRoomHistory history) history.OnMessage(Envelope.Body(envelope), fromThisNode, batch);
                break;
            case EnvelopeKind.Upsert:
            case EnvelopeKind.Leave:
                MemberEvent member = Envelope.ReadMember(Envelope.Body(envelope));
                var remote = new RemoteMember(member.User, member.Conn, Encoding.UTF8.GetString(Envelope.Origin(envelope)), member.Meta);
                lock (Room.Sync)
                {
                    _recording?.Add((kind == EnvelopeKind.Leave, remote));
                    if (!Room.IsReady) break;
                    if (kind == EnvelopeKind.Upsert) Room.ApplyRemoteUpsert(remote, announce: true, batch);
                    else Room.ApplyRemoteLeave(remote.Conn, member.WillFrame, announce: true, remote.Node, batch);
                }
                break;
        }
    }

    /// <summary>A hand-over's cut (Room.HandOver.cs): this node's own mark back, another node's mark for a member departing from here, or an acknowledgement.</summary>
    private void OnCut(EnvelopeKind kind, byte[] envelope, bool fromThisNode)
    {
        string conn = Encoding.UTF8.GetString(Envelope.Body(envelope));
        if (kind == EnvelopeKind.CutMark)
        {
            if (fromThisNode) Room.OnOwnCutMark(conn);
            else Room.Hub.ReleaseDeparted(Room, conn, Encoding.UTF8.GetString(Envelope.Origin(envelope)));
        }
        else if (!fromThisNode)
        {
            Room.OnCutAcknowledged(conn, Encoding.UTF8.GetString(Envelope.Origin(envelope)));
        }
    }

    /// <summary>Reads the room's members from Redis and installs them (open and resync); throws when Redis cannot answer.</summary>
    internal async Task ReloadAsync()
    {
        BeginRecording();
        IReadOnlyList<RemoteMember> snapshot = await _backplane.ReadSnapshotAsync(Keys, credit: true).ConfigureAwait(false);
        Install(snapshot);
    }

    private async Task LoadAsync(Task subscribed)
    {
        IReadOnlyList<RemoteMember>? snapshot = null;
        try
        {
            if (_backplane.Health.State != BackplaneState.Degraded)
            {
                await _backplane.Gateway.RunIssuedAsync(subscribed).ConfigureAwait(false);
                BeginRecording();
                // Not crediting: a slot left alone because the node that had members there died is time passing (clock.lua).
                snapshot = await _backplane.ReadSnapshotAsync(Keys, credit: false).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            // Counted by the gateway; the room opens with what is known and the resync loads the rest.
            _backplane.Logger.LogWarning("room {Room}: remote members not loaded ({Error}); the resync will", Room.Name, e.Message);
            _backplane.RequestResync();
        }
        try
        {
            Install(snapshot);
        }
        catch (Exception e)
        {
            _backplane.Health.CountFailure();
            _backplane.Logger.LogError(e, "room {Room}: installing remote members failed", Room.Name);
            _ready.TrySetResult(); // joiners must not wait forever; the resync reconciles the replica
        }
    }

    private void BeginRecording()
    {
        lock (Room.Sync) _recording ??= [];
    }

    /// <summary>
    /// Makes the replica equal to <paramref name="snapshot"/> (null: Redis could not be read; keep what is known)
    /// plus the events recorded since the read began, sending local members a diff for each difference, then
    /// marks the room ready.
    /// </summary>
    private void Install(IReadOnlyList<RemoteMember>? snapshot)
    {
        using SendBatch batch = SendBatch.Open();
        lock (Room.Sync)
        {
            List<(bool IsLeave, RemoteMember Member)>? recorded = _recording;
            _recording = null;
            if (snapshot is not null)
            {
                var target = new Dictionary<string, RemoteMember>(StringComparer.Ordinal);
                foreach (RemoteMember member in snapshot)
                {
                    if (member.Node != _backplane.NodeId) target[member.Conn] = member;
                }
                foreach ((bool isLeave, RemoteMember member) in recorded ?? [])
                {
                    if (isLeave) target.Remove(member.Conn);
                    else target[member.Conn] = member;
                }
                Room.ReplaceRemoteMembers(target, announce: Room.IsReady, batch);
            }
            _ready.TrySetResult();
        }
    }

    private byte[] WillFrame(RoomMember member)
    {
        if (member.Will is not { } will) return [];
        using var frame = new FrameBuffer(64 + will.Length);
        ServerFrames.Message(frame, Room.Name, member.User, member.ConnId, will, 0);
        return frame.WrittenSpan.ToArray();
    }
}
