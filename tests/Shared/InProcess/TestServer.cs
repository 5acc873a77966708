using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PresenceD.Server.Configuration;
using PresenceD.Server.Diagnostics;
using PresenceD.Server.Hosting;

namespace PresenceD.Tests.Shared;

/// <summary>
/// A real daemon in this process on a free loopback port, with real sockets. <see cref="Start"/> is the bare
/// server; <see cref="StartWithDiagnostics"/> adds what Program wires around it: every log line captured, the
/// runtime gauges, the Prometheus exporter and, when asked, the admin port.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly CapturedLog? _log;
    private readonly PrometheusExporter? _exporter;

    private TestServer(PresenceServer server, ILoggerFactory loggerFactory, CapturedLog? log, PrometheusExporter? exporter, AdminServer? admin)
    {
        Server = server;
        _loggerFactory = loggerFactory;
        _log = log;
        _exporter = exporter;
        Admin = admin;
    }

    public PresenceServer Server { get; }

    public IPEndPoint EndPoint => Server.EndPoint;

    /// <summary>Every line the server logged (<see cref="StartWithDiagnostics"/> only).</summary>
    public CapturedLog Log => _log ?? throw new InvalidOperationException("started without diagnostics: use TestServer.StartWithDiagnostics");

    /// <summary>The server's metrics as /metrics serves them (<see cref="StartWithDiagnostics"/> only).</summary>
    public PrometheusExporter Exporter => _exporter ?? throw new InvalidOperationException("started without diagnostics: use TestServer.StartWithDiagnostics");

    public AdminServer? Admin { get; }

    /// <summary>The server alone, logging nowhere.</summary>
    public static TestServer Start(Action<ServerOptions>? configure = null)
    {
        var server = new PresenceServer(Options(configure), NullLoggerFactory.Instance);
        server.Start();
        return new TestServer(server, NullLoggerFactory.Instance, null, null, null);
    }

    /// <summary>The server with its diagnostics as Program wires them; the admin port (on a free port) when <paramref name="admin"/>.</summary>
    public static TestServer StartWithDiagnostics(Action<ServerOptions>? configure = null, bool admin = false)
    {
        var log = new CapturedLog();
        ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(log));
        var server = new PresenceServer(Options(configure), loggerFactory);
        server.Start();
        RuntimeGauges.Register(server);
        var exporter = new PrometheusExporter(server.Metrics.Meter);
        AdminServer? adminServer = admin
            ? AdminServer.Start(new IPEndPoint(IPAddress.Loopback, 0), new AdminEndpoints(exporter, server.Readiness()), loggerFactory.CreateLogger("admin"))
            : null;
        return new TestServer(server, loggerFactory, log, exporter, adminServer);
    }

    /// <summary>HELLO as <paramref name="user"/>; with <paramref name="keepAlive"/>, the client pings on that period (see <see cref="TestClient.KeepAlive"/>).</summary>
    public Task<TestClient> HelloAsync(string user, TimeSpan? keepAlive = null) => TestClient.HelloAsync(EndPoint, user, keepAlive: keepAlive);

    public Task<TestClient> ConnectAsync() => TestClient.ConnectAsync(EndPoint);

    public async ValueTask DisposeAsync()
    {
        if (Admin is not null) await Admin.DisposeAsync();
        await Server.DisposeAsync();
        _exporter?.Dispose();
        _loggerFactory.Dispose();
    }

    private static ServerOptions Options(Action<ServerOptions>? configure)
    {
        var options = new ServerOptions { Bind = "127.0.0.1", Port = 0, TimerTick = TimeSpan.FromMilliseconds(20) };
        // test.sh runs the server tests once more on the other engine: every behaviour holds on both.
        if (Environment.GetEnvironmentVariable("PRESENCED_TEST_IO_ENGINE") is { Length: > 0 } engine)
        {
            options.IoEngine = engine switch
            {
                "epoll" => IoEngine.Epoll,
                "io_uring" => IoEngine.IoUring,
                _ => throw new InvalidOperationException($"PRESENCED_TEST_IO_ENGINE={engine}: epoll or io_uring"),
            };
        }
        configure?.Invoke(options);
        return options;
    }
}
