using System.Net;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Accept;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Expiry;

namespace PresenceD.Server.Hosting;

/// <summary>
/// One daemon: listener, timer wheel and shared services, started and drained as a unit. Program
/// runs it under signals; tests run it in-process on port 0.
/// </summary>
internal sealed class PresenceServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopAccepting = new();
    private SocketListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private Timer? _maintenance;

    public PresenceServer(ServerOptions options, ILoggerFactory loggerFactory, IClock? clock = null)
    {
        Context = new ServerContext(options, loggerFactory, clock ?? SystemClock.Instance);
    }

    public ServerContext Context { get; }

    public IPEndPoint EndPoint => _listener?.LocalEndPoint ?? throw new InvalidOperationException("not started");

    /// <summary>True between start and drain: the readiness that /readyz reports.</summary>
    public bool Accepting { get; private set; }

    public void Start()
    {
        ServerOptions options = Context.Options;
        _listener = new SocketListener(Context, new IPEndPoint(BindAddress.Resolve(options.Bind), options.Port));
        Context.Wheel.Start();
        Context.Backplane.Start();
        _acceptLoop = Task.Run(() => _listener.RunAsync(_stopAccepting.Token));
        _maintenance = new Timer(_ => Context.History.DropExpired(Context.Clock.NowMs), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        Accepting = true;
    }

    /// <summary>The start line, logged once the daemon is ready for clients (after the warm-up).</summary>
    public void AnnounceListening() =>
        Context.Logger.LogInformation("presenced listening on {EndPoint} (node {Node}, backplane {Backplane}, auth {Auth})",
            EndPoint, Context.NodeId, Context.Options.Backplane, Context.Options.Auth);

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
        int open = Context.Connections.Count;
        Context.Logger.LogInformation("draining {Connections} connections (drain_timeout {Timeout})", open, timeout);
        foreach (Connection connection in Context.Connections.All) connection.RequestClose(CloseReason.ServerShutdown);
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Context.Connections.Count > 0 && Environment.TickCount64 < deadline) await Task.Delay(20);
        foreach (Connection connection in Context.Connections.All) connection.Abort();
        Context.Logger.LogInformation("drained; {Left} connections cut at the deadline", Context.Connections.Count);
    }

    public async ValueTask DisposeAsync()
    {
        if (Accepting) await DrainAsync(TimeSpan.FromSeconds(1));
        if (_maintenance is not null) await _maintenance.DisposeAsync();
        await Context.Backplane.DisposeAsync();
        Context.Dispose();
        _stopAccepting.Dispose();
    }
}
