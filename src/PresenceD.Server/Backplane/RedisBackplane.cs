using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Configuration;
using PresenceD.Server.Hosting;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// The cluster backplane: one pub/sub channel per room with local members, presence in Redis (expiring
/// entries refreshed and swept by <see cref="PresenceMaintenance"/>), every write queued to one ordered
/// writer (<see cref="CommandQueue"/>), every call bounded by <see cref="RedisGateway"/>.
/// </summary>
internal sealed class RedisBackplane : IBackplane
{
    private const int QueueLimit = 100_000;

    private readonly ServerContext _server;
    private readonly byte[] _nodeId;
    private readonly RemoteApplier _applier;
    private readonly ConcurrentQueue<BackplaneCommand> _lostLeaves = new();
    private RedisGateway? _gateway;
    private CommandQueue? _queue;
    private RoomChannels? _channels;
    private PresenceMaintenance? _maintenance;

    public RedisBackplane(ServerContext server)
    {
        _server = server;
        _nodeId = Encoding.UTF8.GetBytes(server.NodeId);
        _applier = new RemoteApplier(server);
        Health = new BackplaneHealth(clustered: true);
    }

    public bool IsClustered => true;

    public BackplaneHealth Health { get; }

    internal ServerContext Server => _server;

    internal RedisGateway Gateway => _gateway ?? throw new InvalidOperationException("backplane not started");

    internal CommandQueue Queue => _queue ?? throw new InvalidOperationException("backplane not started");

    internal RoomChannels Channels => _channels ?? throw new InvalidOperationException("backplane not started");

    internal RemoteApplier Applier => _applier;

    internal ILogger Logger => _server.Logger;

    internal byte[] NodeIdBytes => _nodeId;

    /// <summary>Leaves that could not be written during an outage, replayed first by the resync.</summary>
    internal ConcurrentQueue<BackplaneCommand> LostLeaves => _lostLeaves;

    internal ServerOptions Options => _server.Options;

    /// <summary>Presence entries live this long past their last refresh: a dead node's members vanish within it plus one sweep.</summary>
    internal long EntryTtlMs => (long)Options.HeartbeatTimeout.TotalMilliseconds;

    /// <summary>Redis drops a room's keys on its own when no node refreshed them this long (rooms nobody holds any more).</summary>
    internal long KeyTtlMs => Math.Max(EntryTtlMs * 4, (long)Options.SweepInterval.TotalMilliseconds * 8);

    /// <summary>A silence of Redis longer than this is a pause, not time passing (see clock.lua): above one sweep, below ttl minus one sweep.</summary>
    internal long GapMaxMs => Math.Max((long)Options.SweepInterval.TotalMilliseconds + 1, EntryTtlMs / 2);

    public void Start()
    {
        ServerOptions options = _server.Options;
        _gateway = new RedisGateway(options.Redis, options.RedisTimeout, Health, _server.Metrics, _server.Logger);
        _gateway.Failed += OnFailed;
        _gateway.Multiplexer.ConnectionFailed += (_, e) => OnFailed(e.Exception ?? new InvalidOperationException("redis connection failed: " + e.FailureType));
        _gateway.Multiplexer.ConnectionRestored += (_, _) => _maintenance?.RequestResync();
        _queue = new CommandQueue(_gateway, Health, _server.Logger, _lostLeaves.Enqueue, QueueLimit);
        _channels = new RoomChannels(_gateway.Subscriber, OnChannelMessage);
        _maintenance = new PresenceMaintenance(this);
        if (!_gateway.Multiplexer.IsConnected)
        {
            _server.Logger.LogWarning("redis {Endpoint} is not reachable: starting degraded", options.Redis);
            Health.State = BackplaneState.Degraded;
        }
        _queue.Start();
        _maintenance.Start();
    }

    public void OpenRoom(string room, RoomPresence presence)
    {
        var keys = new RoomKeys(room);
        presence.BackplaneState = keys;
        Task subscribed = Channels.Open(room, presence, keys);
        _ = LoadRoomAsync(room, presence, keys, subscribed);
    }

    public void CloseRoom(string room, RoomPresence presence) => Channels.Close(room, presence);

    public void SessionStarted(Session session) =>
        Enqueue(BackplaneCommand.Run(CommandKind.Presence, LuaScripts.OnlineRefresh, [], [EntryTtlMs, KeyTtlMs, GapMaxMs, session.User, session.ConnId]));

    public void SessionEnded(Session session) =>
        Enqueue(BackplaneCommand.Run(CommandKind.Presence, LuaScripts.Offline, [], [session.User, session.ConnId]));

    public void MemberUpserted(RoomMember member)
    {
        if (member.Presence.BackplaneState is RoomKeys keys) Enqueue(UpsertCommand(member, keys));
    }

    public void MemberLeft(RoomMember member, ReadOnlySpan<byte> willFrame, bool hasWill)
    {
        if (member.Presence.BackplaneState is not RoomKeys keys) return;
        Session session = member.Session;
        byte[] leave = Envelope.ForMember(EnvelopeKind.Leave, _nodeId, session.User, session.ConnId, member.Meta, willFrame, hasWill);
        Enqueue(BackplaneCommand.Run(CommandKind.Leave, LuaScripts.Leave, keys.Members, [session.ConnId, keys.ChannelName, leave]));
    }

    public bool PublishMessage(RoomPresence presence, string room, ReadOnlySpan<byte> frame)
    {
        if (Health.State == BackplaneState.Degraded || presence.BackplaneState is not RoomKeys keys)
        {
            Health.CountDropped(1);
            return false;
        }
        return Queue.TryEnqueue(BackplaneCommand.Publish(keys.Channel, Envelope.ForFrame(EnvelopeKind.Message, _nodeId, frame)));
    }

    public bool PublishHistoryMessage(RoomPresence presence, ReadOnlySpan<byte> frameWithoutOffset)
    {
        if (Health.State == BackplaneState.Degraded || presence.BackplaneState is not RoomKeys keys)
        {
            Health.CountDropped(1);
            return false;
        }
        byte[] body = frameWithoutOffset[4..^1].ToArray(); // the length prefix and the fixint 0 offset are redone by the script
        var args = new RedisValue[] { body, Options.HistorySize, keys.ChannelName, _nodeId, NewEpoch(), (long)Options.HistoryTtl.TotalMilliseconds };
        return Queue.TryEnqueue(BackplaneCommand.Run(CommandKind.HistoryPublish, LuaScripts.HistoryAppend, keys.History, args));
    }

    public async ValueTask<HistoryRead?> ReadHistoryAsync(RoomPresence presence, long from)
    {
        if (Health.State == BackplaneState.Degraded || presence.BackplaneState is not RoomKeys keys) return null;
        try
        {
            var args = new RedisValue[] { from, NewEpoch(), (long)Options.HistoryTtl.TotalMilliseconds };
            RedisResult result = await Gateway.RunAsync((keys, args), static (db, s) =>
                db.ScriptEvaluateAsync(LuaScripts.HistoryRead, s.keys.History, s.args)).ConfigureAwait(false);
            var items = (RedisResult[])result!;
            var frames = new List<byte[]>(items.Length - 3);
            for (int i = 3; i < items.Length; i++) frames.Add((byte[])items[i]!);
            return new HistoryRead((string)items[0]!, (long)items[1], (long)items[2] == 1, from, frames);
        }
        catch (Exception)
        {
            return null;
        }
    }

    public async ValueTask<IReadOnlyList<RemoteMember>?> QueryRoomAsync(string room)
    {
        if (Health.State == BackplaneState.Degraded) return null;
        try
        {
            return await ReadSnapshotAsync(new RoomKeys(room)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            return null;
        }
    }

    public async ValueTask<IReadOnlyList<string>?> QueryOnlineAsync(IReadOnlyList<string> users)
    {
        if (Health.State == BackplaneState.Degraded) return null;
        var args = new RedisValue[users.Count + 1];
        args[0] = GapMaxMs;
        for (int i = 0; i < users.Count; i++) args[i + 1] = users[i];
        try
        {
            RedisResult result = await Gateway.RunAsync(args, static (db, a) => db.ScriptEvaluateAsync(LuaScripts.OnlineQuery, [], a)).ConfigureAwait(false);
            return ((RedisResult[])result!).Select(r => (string)r!).ToList();
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>The upsert script call for a member, as of now (caller holds the presence lock or owns the member).</summary>
    internal BackplaneCommand UpsertCommand(RoomMember member, RoomKeys keys)
    {
        Session session = member.Session;
        byte[] stored = Envelope.ForMember(EnvelopeKind.Leave, _nodeId, session.User, session.ConnId, member.Meta, WillFrame(member), member.Will is not null);
        byte[] upsert = Envelope.ForMember(EnvelopeKind.Upsert, _nodeId, session.User, session.ConnId, member.Meta, default, false);
        return BackplaneCommand.Run(CommandKind.Presence, LuaScripts.Upsert, keys.Members,
            [session.ConnId, stored, EntryTtlMs, KeyTtlMs, GapMaxMs, keys.ChannelName, upsert]);
    }

    /// <summary>Reads a room's live members from Redis (every node's, this one's included).</summary>
    internal async Task<IReadOnlyList<RemoteMember>> ReadSnapshotAsync(RoomKeys keys)
    {
        RedisResult result = await Gateway.RunAsync((keys, gap: GapMaxMs), static (db, s) =>
            db.ScriptEvaluateAsync(LuaScripts.Snapshot, s.keys.Members, [s.gap])).ConfigureAwait(false);
        var members = new List<RemoteMember>();
        foreach (RedisResult stored in (RedisResult[])result!)
        {
            byte[] envelope = (byte[])stored!;
            MemberEvent member = Envelope.ReadMember(Envelope.Body(envelope));
            members.Add(new RemoteMember(member.User, member.Conn, Encoding.UTF8.GetString(Envelope.Origin(envelope)), member.Meta));
        }
        return members;
    }

    internal void Enqueue(in BackplaneCommand command)
    {
        if (command.Kind == CommandKind.Leave && Health.State == BackplaneState.Degraded)
        {
            _lostLeaves.Enqueue(command);
            Health.CountDropped(1);
            return;
        }
        if (Health.State != BackplaneState.Degraded) Queue.TryEnqueue(command);
        else Health.CountDropped(1);
    }

    private async Task LoadRoomAsync(string room, RoomPresence presence, RoomKeys keys, Task subscribed)
    {
        Room<RoomMember>? localRoom = _server.Hub.Index.Find(room);
        IReadOnlyList<RemoteMember>? snapshot = null;
        try
        {
            if (Health.State != BackplaneState.Degraded)
            {
                await Gateway.RunIssuedAsync(subscribed).ConfigureAwait(false);
                RemoteApplier.BeginSnapshot(presence);
                snapshot = await ReadSnapshotAsync(keys).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            _server.Logger.LogDebug("room {Room}: remote members not loaded ({Error}); the resync will", room, e.Message);
            _maintenance?.RequestResync();
        }
        if (localRoom is not null && ReferenceEquals(localRoom.State, presence)) _applier.Install(localRoom, presence, snapshot);
        else presence.MarkReady();
    }

    /// <summary>An epoch for a room whose Redis history is missing (new, expired, or lost with Redis's data).</summary>
    private string NewEpoch() => _server.NodeId + "-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    private byte[] WillFrame(RoomMember member)
    {
        if (member.Will is not { } will) return [];
        using var frame = new Protocol.Framing.FrameBuffer(64 + will.Length);
        Protocol.Messages.ServerFrames.Message(frame, member.Room.Name, member.Session.User, member.Session.ConnId, will, 0);
        return frame.WrittenSpan.ToArray();
    }

    private void OnChannelMessage(RedisChannel channel, RedisValue value)
    {
        Health.CountReceived();
        string name = channel;
        try
        {
            _applier.OnEnvelope(name[RoomKeys.ChannelPrefix.Length..], value!);
        }
        catch (Exception e)
        {
            _server.Logger.LogError(e, "envelope on {Channel} could not be applied", name);
        }
    }

    private void OnFailed(Exception e)
    {
        if (Health.State == BackplaneState.Degraded) return;
        Health.State = BackplaneState.Degraded;
        _server.Logger.LogWarning("redis unavailable ({Error}): serving local members only, cross-node traffic dropped", e.Message);
    }

    public async ValueTask DisposeAsync()
    {
        if (_maintenance is not null) await _maintenance.StopAsync().ConfigureAwait(false);
        if (_queue is not null) await _queue.StopAsync().ConfigureAwait(false);
        _gateway?.Dispose();
    }
}
