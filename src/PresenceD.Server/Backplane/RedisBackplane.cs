using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Configuration;
using PresenceD.Server.History;
using PresenceD.Server.Rooms;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// The cluster backplane: one <see cref="RedisRoomBroker"/> per local room (its pub/sub channel, presence keys and,
/// for history rooms, its stream), the node's online index, and questions about rooms this node does not hold.
/// Presence entries expire unless refreshed; <see cref="PresenceMaintenance"/> refreshes and sweeps them. Every
/// write is queued to one ordered writer (<see cref="CommandQueue"/>), every call bounded by <see cref="RedisGateway"/>.
/// </summary>
internal sealed class RedisBackplane : IBackplane
{
    /// <summary>Writes queued for Redis beyond which new ones are dropped (and counted): a bound on the memory an outage or a slow Redis can take.</summary>
    internal const int QueueLimit = 100_000;

    private readonly LiveOptions _options;
    private readonly ConcurrentDictionary<string, string> _online = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<BackplaneCommand> _lostLeaves = new();
    private RedisGateway? _gateway;
    private CommandQueue? _queue;
    private RoomChannels? _channels;
    private PresenceMaintenance? _maintenance;
    private readonly NodeLink _link;

    public RedisBackplane(LiveOptions options, string nodeId, HistoryStore historyRooms, ILogger logger, Histogram<double>? latency)
    {
        _options = options;
        HistoryRooms = historyRooms;
        NodeId = nodeId;
        NodeIdBytes = Encoding.UTF8.GetBytes(nodeId);
        Logger = logger;
        Health = new BackplaneHealth(clustered: true, latency);
        _link = new NodeLink(this);
    }

    public ISessionLink? SessionLink => _link;

    public BackplaneHealth Health { get; }


    internal string NodeId { get; }

    /// <summary>Which rooms keep history (history_rooms, reloadable); in a cluster their history is a Redis Stream.</summary>
    internal HistoryStore HistoryRooms { get; }

    internal byte[] NodeIdBytes { get; }

    internal ILogger Logger { get; }

    internal ServerOptions Options => _options.Current;

    internal RedisGateway Gateway => _gateway ?? throw new InvalidOperationException("backplane not started");

    /// <summary>The deployment found at start: key layout, pub/sub kind and scripts.</summary>
    internal RedisDeployment Deployment => Gateway.Deployment;

    internal LuaScripts Scripts => Gateway.Deployment.Scripts;

    /// <summary>`Redis (cluster, 3 masters)`, `Redis (sentinel mymaster)` or `Redis (single server)`; `Redis` before the start.</summary>
    public string Description => _gateway?.Deployment.Description ?? "Redis";

    internal CommandQueue Queue => _queue ?? throw new InvalidOperationException("backplane not started");

    internal RoomChannels Channels => _channels ?? throw new InvalidOperationException("backplane not started");

    /// <summary>This node's hello-done connections (conn id -> user), which the online refresh keeps alive in Redis.</summary>
    internal ICollection<KeyValuePair<string, string>> OnlineSessions => _online;

    /// <summary>Leaves that could not be written during an outage, replayed first by the resync.</summary>
    internal ConcurrentQueue<BackplaneCommand> LostLeaves => _lostLeaves;

    /// <summary>Presence entries live this long past their last refresh: a dead node's members vanish within it plus one sweep.</summary>
    internal long EntryTtlMs => (long)Options.HeartbeatTimeout.TotalMilliseconds;

    /// <summary>Redis drops a room's keys on its own when no node refreshed them this long (rooms nobody holds any more).</summary>
    internal long KeyTtlMs => Math.Max(EntryTtlMs * 4, (long)Options.SweepInterval.TotalMilliseconds * 8);

    /// <summary>A silence of Redis longer than this is a pause, not time passing (see clock.lua): above one sweep, below ttl minus one sweep.</summary>
    internal long GapMaxMs => Math.Max((long)Options.SweepInterval.TotalMilliseconds + 1, EntryTtlMs / 2);

    public void Start()
    {
        ServerOptions options = Options;
        _gateway = new RedisGateway(RedisEndpoint.Parse(options.Redis), NodeId, options.RedisTimeout, Health, Logger);
        _gateway.Failed += OnFailed;
        _gateway.Multiplexer.ConnectionFailed += (_, e) => OnFailed(e.Exception ?? new InvalidOperationException("redis connection failed: " + e.FailureType));
        _gateway.Multiplexer.ConnectionRestored += (_, _) => _maintenance?.RequestResync();
        _queue = new CommandQueue(_gateway, Health, Logger, _lostLeaves.Enqueue, QueueLimit);
        _channels = new RoomChannels(_gateway.Subscriber, OnChannelMessage, Logger);
        _maintenance = new PresenceMaintenance(this);
        if (!_gateway.Multiplexer.IsConnected)
        {
            Logger.LogWarning("redis {Endpoint} is not reachable: starting degraded", options.Redis);
            Health.State = BackplaneState.Degraded;
        }
        _queue.Start();
        _maintenance.Start();
        _link.Start();
    }

    public IRoomBroker CreateBroker(Room room) => new RedisRoomBroker(this, room);

    public void SessionStarted(string user, string connId)
    {
        _online[connId] = user;
        foreach (ScriptCall call in ScriptChunks.OnlineRefresh(this, [new(connId, user)])) Enqueue(BackplaneCommand.Run(CommandKind.Presence, call.Script, call.Keys, call.Args));
    }

    public void SessionMoved(string connId) => _online.TryRemove(connId, out _);

    public void SessionEnded(string user, string connId)
    {
        _online.TryRemove(connId, out _);
        Enqueue(BackplaneCommand.Run(CommandKind.Presence, Scripts.Offline, [RedisDeployment.OnlineKey(user)], [connId]));
    }

    public async ValueTask<IReadOnlyList<RemoteMember>?> QueryRoomAsync(string room)
    {
        if (Health.State == BackplaneState.Degraded) return null;
        try
        {
            // Not crediting the clock: this node does not refresh the room (see clock.lua).
            return await ReadSnapshotAsync(Deployment.Room(room), credit: false).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The gateway counted the failure; the asker gets what this node knows, which is nothing of this room.
            Logger.LogWarning("room {Room}: members not read from redis ({Error}); answering with none", room, e.Message);
            return null;
        }
    }

    public async ValueTask<IReadOnlyList<string>?> QueryOnlineAsync(IReadOnlyList<string> users)
    {
        if (Health.State == BackplaneState.Degraded || users.Count == 0) return null;
        // Grouped by slot and pipelined: one round trip per shard however many users are asked.
        List<(ScriptCall Call, List<string> Users)> calls = ScriptChunks.OnlineQuery(this, users);
        try
        {
            RedisResult[] results = await Gateway.RunAsync(calls, static (db, c) =>
            {
                IBatch batch = db.CreateBatch();
                var tasks = new Task<RedisResult>[c.Count];
                for (int i = 0; i < tasks.Length; i++) tasks[i] = batch.ScriptEvaluateAsync(c[i].Call.Script, c[i].Call.Keys, c[i].Call.Args);
                batch.Execute();
                return Task.WhenAll(tasks);
            }).ConfigureAwait(false);
            var online = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < results.Length; i++)
            {
                foreach (RedisResult position in (RedisResult[])results[i]!) online.Add(calls[i].Users[(int)position - 1]);
            }
            // In the order asked, as the one-script answer was.
            return users.Where(online.Contains).Distinct(StringComparer.Ordinal).ToList();
        }
        catch (Exception e)
        {
            Logger.LogWarning("online of {Count} users not read from redis ({Error}); answering with this node's", users.Count, e.Message);
            return null;
        }
    }

    /// <summary>Reads a room's live members from Redis (every node's, this one's included).</summary>
    /// <param name="credit">True for a node that holds and refreshes the room: it may credit a pause to the slot's clock (clock.lua).</param>
    internal async Task<IReadOnlyList<RemoteMember>> ReadSnapshotAsync(RoomKeys keys, bool credit)
    {
        RedisResult result = await Gateway.RunAsync((keys, args: new RedisValue[] { GapMaxMs, credit ? 1 : 0, EntryTtlMs }, script: Scripts.Snapshot), static (db, s) =>
            db.ScriptEvaluateAsync(s.script, s.keys.Members, s.args)).ConfigureAwait(false);
        var members = new List<RemoteMember>();
        foreach (RedisResult stored in (RedisResult[])result!)
        {
            byte[] envelope = (byte[])stored!;
            MemberEvent member = Envelope.ReadMember(Envelope.Body(envelope));
            members.Add(new RemoteMember(member.User, member.Conn, Encoding.UTF8.GetString(Envelope.Origin(envelope)), member.Meta));
        }
        return members;
    }

    /// <summary>Queues a presence write; during an outage leaves are kept for the resync and the rest counted as dropped.</summary>
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

    /// <summary>Asks for a resync at the next maintenance tick (a room could not load its members, Redis came back).</summary>
    internal void RequestResync() => _maintenance?.RequestResync();

    /// <summary>An epoch for a room whose Redis history is missing (new, expired, or lost with Redis's data).</summary>
    internal string NewEpoch() => NodeId + "-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    private void OnChannelMessage(RedisRoomBroker broker, RedisValue value)
    {
        Health.CountReceived();
        try
        {
            broker.OnEnvelope((byte[])value!);
        }
        catch (Exception e)
        {
            Health.CountFailure();
            Logger.LogError(e, "envelope on {Channel} could not be applied", broker.Keys.ChannelName);
        }
    }

    private void OnFailed(Exception e)
    {
        if (Health.State == BackplaneState.Degraded) return;
        Health.State = BackplaneState.Degraded;
        Logger.LogWarning("redis unavailable ({Error}): serving local members only, cross-node traffic dropped", e.Message);
    }

    public async ValueTask DisposeAsync()
    {
        _link.Stop();
        if (_maintenance is not null) await _maintenance.StopAsync().ConfigureAwait(false);
        if (_queue is not null) await _queue.StopAsync().ConfigureAwait(false);
        _gateway?.Dispose();
    }
}
