using System.Net;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Configuration;
using PresenceD.Server.Diagnostics;
using PresenceD.Server.Hosting;

namespace PresenceD.Operations.Tests.Support;

/// <summary>
/// A daemon in this process on a free loopback port with the pieces Program wires around it: runtime
/// gauges, the Prometheus exporter and (when asked) the admin port; every log line is captured.
/// </summary>
internal sealed class InProcessDaemon : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;

    private InProcessDaemon(PresenceServer server, ILoggerFactory loggerFactory, CapturedLog log, PrometheusExporter exporter, AdminServer? admin)
    {
        Server = server;
        _loggerFactory = loggerFactory;
        Log = log;
        Exporter = exporter;
        Admin = admin;
    }

    public PresenceServer Server { get; }

    public CapturedLog Log { get; }

    public PrometheusExporter Exporter { get; }

    public AdminServer? Admin { get; }

    public IPEndPoint EndPoint => Server.EndPoint;

    public static InProcessDaemon Start(Action<ServerOptions>? configure = null, bool admin = false)
    {
        var options = new ServerOptions { Bind = "127.0.0.1", Port = 0, TimerTick = TimeSpan.FromMilliseconds(20) };
        configure?.Invoke(options);
        var log = new CapturedLog();
        ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(log));
        var server = new PresenceServer(options, loggerFactory);
        server.Start();
        RuntimeGauges.Register(server);
        var exporter = new PrometheusExporter(server.Metrics.Meter);
        AdminServer? adminServer = admin
            ? AdminServer.Start(new IPEndPoint(IPAddress.Loopback, 0), new AdminEndpoints(exporter, server.Readiness()), loggerFactory.CreateLogger("admin"))
            : null;
        return new InProcessDaemon(server, loggerFactory, log, exporter, adminServer);
    }

    public async ValueTask DisposeAsync()
    {
        if (Admin is not null) await Admin.DisposeAsync();
        await Server.DisposeAsync();
        Exporter.Dispose();
        _loggerFactory.Dispose();
    }
}
