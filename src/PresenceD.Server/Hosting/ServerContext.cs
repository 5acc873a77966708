using Microsoft.Extensions.Logging;
using PresenceD.Server.Backplane;
using PresenceD.Server.Buffers;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Diagnostics;
using PresenceD.Server.Dispatch;
using PresenceD.Server.Dispatch.Auth;
using PresenceD.Server.Expiry;
using PresenceD.Server.History;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Hosting;

/// <summary>
/// The services one daemon shares between its connections. Built once at start; <see cref="Options"/>
/// is swapped whole on reload, so a reader sees either the old or the new settings, never a mix.
/// </summary>
internal sealed class ServerContext : IDisposable
{
    private ServerOptions _options;
    private long _connectionSequence;

    public ServerContext(ServerOptions options, ILoggerFactory loggerFactory, IClock clock)
    {
        _options = options;
        LoggerFactory = loggerFactory;
        Logger = loggerFactory.CreateLogger("presenced");
        Clock = clock;
        NodeId = options.EffectiveNodeId.Length > 0 ? options.EffectiveNodeId : options.NodeId.Length > 0 ? options.NodeId : NewNodeId();
        Wheel = new TimerWheel(clock, options.TimerTick);
        Buffers = new BufferPools(options.BufferPoolMax, options.BufferPoolTrimInterval, Wheel);
        History = HistoryStore.FromOptions(options, clock);
        // Metrics first: the backplane reports into them from its constructor on.
        Metrics = new ServerMetrics(() => Connections.Count, CountRooms, CountMembers);
        Backplane = options.Backplane == BackplaneKind.Redis ? new RedisBackplane(this) : new MemoryBackplane();
        Hub = new RoomHub(this);
        Dispatcher = new Dispatcher(this);
        Jwt = options.Auth == AuthMode.Jwt ? JwtVerifier.FromFile(options.JwtSecretFile) : null;
    }

    public ServerOptions Options
    {
        get => Volatile.Read(ref _options);
        set => Volatile.Write(ref _options, value);
    }

    public ILoggerFactory LoggerFactory { get; }

    public ILogger Logger { get; }

    public IClock Clock { get; }

    public string NodeId { get; }

    public TimerWheel Wheel { get; }

    /// <summary>The connections' send and receive buffers, bounded by buffer_pool_max and trimmed on the wheel.</summary>
    public BufferPools Buffers { get; }

    public HistoryStore History { get; }

    public RoomHub Hub { get; }

    /// <summary>How this node reaches the others (memory: it does not); its Health is what /readyz and metrics report.</summary>
    public IBackplane Backplane { get; }

    public Dispatcher Dispatcher { get; }

    public JwtVerifier? Jwt { get; }

    public ServerMetrics Metrics { get; }

    public ConnectionRegistry Connections { get; } = new();

    public OnlineUsers OnlineUsers { get; } = new();

    /// <summary>A connection id unique across the cluster: this node's id and a per-node sequence.</summary>
    public string NextConnId() => NodeId + "-" + Interlocked.Increment(ref _connectionSequence).ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    private long CountRooms() => Hub.Index.Count;

    private long CountMembers() => Hub.Index.Rooms.Sum(r => (long)r.Count);

    public void Dispose()
    {
        Wheel.Dispose();
        Buffers.Dispose();
        Metrics.Dispose();
    }

    private static string NewNodeId() => "n" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
}
