using System.Net;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Accept;
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
using PresenceD.Server.Tls;

namespace PresenceD.Server.Hosting;

/// <summary>
/// One daemon, and the one place that builds it: each component gets the narrow dependencies it uses, in data
/// path order (backplane, rooms, dispatcher, connections, listener). Started and drained as a unit; Program runs
/// it under signals, tests run it in-process on port 0.
/// </summary>
internal sealed class PresenceServer : IAsyncDisposable
{
    /// <summary>How often standalone histories that expired are dropped: their TTL is minutes, so a coarse sweep suffices.</summary>
    internal static readonly TimeSpan HistorySweepInterval = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly Dispatcher _dispatcher;
    private SocketListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private Timer? _historySweep;

    public PresenceServer(ServerOptions options, ILoggerFactory loggerFactory, IClock? clock = null)
    {
        clock ??= SystemClock.Instance;
        Options = new LiveOptions(options);
        Logger = loggerFactory.CreateLogger("presenced");
        string nodeId = options.EffectiveNodeId.Length > 0 ? options.EffectiveNodeId : options.NodeId.Length > 0 ? options.NodeId : ConnIds.NewNodeId();
        ConnIds = new ConnIds(nodeId);
        Wheel = new TimerWheel(clock, options.TimerTick) { CallbackFailed = OnTimerFailed };
        Buffers = new BufferPools(options.BufferPoolMax, options.BufferPoolTrimInterval, Wheel);
        History = HistoryStore.FromOptions(options, clock);
        Metrics = new ServerMetrics();
        Backplane = options.Backplane == BackplaneKind.Redis
            ? new RedisBackplane(Options, nodeId, History, Logger, Metrics.BackplaneLatency)
            : new MemoryBackplane(History, clock);
        Rooms = new RoomHub(Options, clock, Backplane);
        Jwt = options.Auth == AuthMode.Jwt ? JwtVerifier.Load(options.JwtSecretFile, options.JwtPublicKeyFile) : null;
        _dispatcher = new Dispatcher(Options, clock, Rooms, OnlineUsers, ConnIds, Jwt, new LocalResumableSessions(), Wheel, Logger);
        Tls = options.UsesTls ? new TlsServerSettings(TlsCredentials.Load(options.TlsCertFile, options.TlsKeyFile, DateTime.UtcNow), options.TlsProtocols) : null;
        Connections = new ConnectionHost(Options, clock, Wheel, Buffers, Logger, options.Tls == TlsMode.Off ? null : Tls);
        Metrics.Observe(Connections, _dispatcher.Counters, Rooms, Wheel);
        Metrics.ObserveResumes(_dispatcher.ResumeCounters, () => _dispatcher.HeldBytes, () => _dispatcher.SuspendedNow);
    }

    public LiveOptions Options { get; }

    public ILogger Logger { get; }

    public ConnIds ConnIds { get; }

    public TimerWheel Wheel { get; }

    public BufferPools Buffers { get; }

    public HistoryStore History { get; }

    public ServerMetrics Metrics { get; }

    public IBackplane Backplane { get; }

    public RoomHub Rooms { get; }

    public OnlineUsers OnlineUsers { get; } = new();

    public ConnectionHost Connections { get; }

    public DispatchCounters DispatchCounters => _dispatcher.Counters;

    public ResumeCounters ResumeCounters => _dispatcher.ResumeCounters;

    /// <summary>The certificate and versions of the TLS ports (tls or admin_tls on or optional), else null.</summary>
    public TlsServerSettings? Tls { get; }

    /// <summary>The token verifier with auth jwt (the warm-up signs its own token and checks it with it), else null.</summary>
    public JwtVerifier? Jwt { get; }

    public IPEndPoint EndPoint => _listener?.LocalEndPoint ?? throw new InvalidOperationException("not started");

    /// <summary>True between start and drain: the readiness that /readyz reports.</summary>
    public bool Accepting { get; private set; }

    public void Start()
    {
        ServerOptions options = Options.Current;
        _listener = new SocketListener(Connections, new IPEndPoint(BindAddress.Resolve(options.Bind), options.Port), connection => new Session(connection, _dispatcher));
        Wheel.Start();
        Backplane.Start();
        _acceptLoop = Task.Run(() => _listener.RunAsync(_stopAccepting.Token));
        _historySweep = new Timer(_ => SweepHistories(), null, HistorySweepInterval, HistorySweepInterval);
        Accepting = true;
    }

    /// <summary>The start line, logged once the daemon is ready for clients (after the warm-up), after the TLS line.</summary>
    public void AnnounceListening()
    {
        if (Tls is not null)
        {
            ServerOptions options = Options.Current;
            Logger.LogInformation("tls {Tls} on the client port, admin_tls {AdminTls}, tls_min_version {MinVersion}: certificate {Certificate}",
                ConfigKeys.Find("tls")!.Format(options), ConfigKeys.Find("admin_tls")!.Format(options), ConfigKeys.Find("tls_min_version")!.Format(options), Tls.Credentials.Description);
        }
        Logger.LogInformation("presenced listening on {EndPoint} (node {Node}, backplane {Backplane}, auth {Auth}, io_engine {IoEngine})",
            EndPoint, ConnIds.NodeId, Backplane.Description, Options.Current.Auth, Connections.Scheduler.Engine == IoEngine.IoUring ? "io_uring" : "epoll");
    }

    /// <summary>What /readyz checks and reports.</summary>
    public ReadinessCheck Readiness() =>
        ReadinessCheck.ForDaemon(() => Accepting, () => Backplane.Health.State.ToString().ToLowerInvariant());

    /// <summary>
    /// Stops accepting, sends GOAWAY SHUTDOWN (jittered reconnect_ms) to every client, lets them flush,
    /// removes their presence, and returns once all are closed or <paramref name="timeout"/> passed.
    /// </summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        Accepting = false;
        await _stopAccepting.CancelAsync();
        _listener?.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
        }
        ConnectionRegistry registry = Connections.Registry;
        Logger.LogInformation("draining {Connections} connections (drain_timeout {Timeout})", registry.Count, timeout);
        foreach (Connection connection in registry.All) connection.RequestClose(CloseReason.ServerShutdown);
        // A suspended session has no connection to close: it ends now, its wills and leaves delivered like the others'.
        int suspended = _dispatcher.EndSuspendedSessions();
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        // Until every socket is closed, lingering ones included: a close cut short by the exit is a reset.
        while (registry.Live > 0 && Environment.TickCount64 < deadline) await Task.Delay(20);
        int left = registry.Live;
        foreach (Connection connection in registry.All) connection.Abort();
        // Connections that dropped during the drain may have suspended after the first pass.
        suspended += _dispatcher.EndSuspendedSessions();
        Logger.LogInformation("drained; {Left} connections cut at the deadline, {Suspended} suspended sessions ended", left, suspended);
    }

    public async ValueTask DisposeAsync()
    {
        if (Accepting) await DrainAsync(TimeSpan.FromSeconds(1));
        if (_historySweep is not null) await _historySweep.DisposeAsync();
        await Backplane.DisposeAsync();
        Wheel.Dispose();
        Connections.Scheduler.Dispose();
        Buffers.Dispose();
        Metrics.Dispose();
        _stopAccepting.Dispose();
    }

    private void SweepHistories()
    {
        try
        {
            History.DropExpired(Wheel.Clock.NowMs);
        }
        catch (Exception e)
        {
            Logger.LogError(e, "history sweep failed");
        }
    }

    /// <summary>A timer callback threw: logged, counted by the wheel, and a connection whose deadline it was is cut, never left open forever.</summary>
    private void OnTimerFailed(WheelTimer timer, Exception e)
    {
        Logger.LogError(e, "timer callback {Timer} failed: {Error}", timer.GetType().Name, e.Message);
        if (timer is Connection connection)
        {
            try
            {
                connection.Abort();
            }
            catch (Exception abortFailed)
            {
                Logger.LogError(abortFailed, "cutting a connection after its timer failed also failed");
            }
        }
    }
}
