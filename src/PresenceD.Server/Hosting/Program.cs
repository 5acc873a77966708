using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using PresenceD.Server.Configuration;
using PresenceD.Server.Diagnostics;
using PresenceD.Server.Dispatch.Auth;
using PresenceD.Server.Tls;

namespace PresenceD.Server.Hosting;

/// <summary>
/// `presenced [config-file] [--key value ...] [--check-config] [--help] [--version]`: loads the settings (file, then
/// PRESENCED_* environment, then command line), runs the daemon with its admin port and systemd
/// notifications, drains on SIGTERM/SIGINT and reloads on SIGHUP. Exit codes: 0 after a clean drain or a
/// valid --check-config, 1 for a configuration error, 2 when the daemon could not start (e.g. a port is taken).
/// </summary>
internal static class Program
{
    private static readonly Lock ReloadLock = new();

    private static async Task<int> Main(string[] args)
    {
        // Socket completions run on the epoll threads instead of hopping to the thread pool: the receive path
        // never blocks (a request that waits on Redis continues asynchronously), and one hop less per read
        // halved the server's CPU per delivery in the peers benchmark's W2. Must be set before the first socket.
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
        {
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        }
        // With completions inline, the socket engine threads do all the work: one per two cores leaves the rest
        // to the kernel's TCP work (charged to the sender on loopback). On 2 cores, 1 engine gave W1 23 % more
        // deliveries/s at 20 % less CPU per delivery than 2 engines, measured in one run.
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT") is null)
        {
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT",
                Math.Max(1, Environment.ProcessorCount / 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        ServerOptions options;
        try
        {
            options = ConfigLoader.Load(args);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync("presenced: " + e.Message);
            return 1;
        }
        if (options.Auth == AuthMode.Jwt && options.Command != ConfigCommand.Help && options.Command != ConfigCommand.HelpMarkdown)
        {
            // The key files are parsed here too, so --check-config and the start both fail on a key that cannot be used.
            try
            {
                JwtKeys.Load(options.JwtSecretFile, options.JwtPublicKeyFile);
            }
            catch (JwtKeyException e)
            {
                await Console.Error.WriteLineAsync("presenced: " + e.Message);
                return 1;
            }
        }
        if (options.UsesTls && options.Command != ConfigCommand.Help && options.Command != ConfigCommand.HelpMarkdown)
        {
            // Parsed here too, so --check-config and the start both fail on a certificate that cannot be served.
            try
            {
                TlsCredentials credentials = TlsCredentials.Load(options.TlsCertFile, options.TlsKeyFile, DateTime.UtcNow);
                if (options.Command == ConfigCommand.CheckConfig) Console.WriteLine("# tls certificate: " + credentials.Description);
            }
            catch (TlsCertificateException e)
            {
                await Console.Error.WriteLineAsync("presenced: " + e.Message);
                return 1;
            }
        }
        switch (options.Command)
        {
            case ConfigCommand.Help:
                Console.WriteLine(ConfigLoader.HelpText());
                return 0;
            case ConfigCommand.HelpMarkdown:
                Console.Write(ConfigReference.Markdown());
                return 0;
            case ConfigCommand.Version:
                Console.WriteLine(BuildInfo.VersionLine);
                return 0;
            case ConfigCommand.CheckConfig:
                Console.Write(ConfigLoader.Describe(options));
                // The deployment as far as the setting tells it; a plain host list is told apart from a cluster's seeds at connect (start line).
                if (options.Backplane == BackplaneKind.Redis) Console.WriteLine("# backplane Redis (" + RedisEndpoint.Parse(options.Redis).Describe() + ")");
                return 0;
        }

        var logLevel = new LogLevelSwitch(options.LogLevel);
        using ILoggerFactory loggerFactory = CreateLoggerFactory(logLevel);
        ILogger log = loggerFactory.CreateLogger("presenced");

        foreach (string ignored in options.IgnoredEnvironment) log.LogWarning("environment {Variable} names no setting; ignored", ignored);
        await using var server = new PresenceServer(options, loggerFactory);
        // Handlers go in before the start line is logged: a SIGHUP sent as soon as the daemon says it
        // listens must reload, not kill it (SIGHUP's default action).
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var notifications = new ServiceNotifications(SystemdNotifier.FromEnvironment(), () => Status(server, draining: stop.Task.IsCompleted));
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStop);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStop);
        using PosixSignalRegistration hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            notifications.Reloading();
            Reload(server, args, logLevel, log);
            notifications.Reloaded();
        });
        RuntimeGauges.Register(server);
        using var exporter = new PrometheusExporter(server.Metrics.Meter);
        AdminServer? admin = null;
        // The admin port is taken first: a daemon that cannot have it must exit before it accepts a single client.
        if (options.AdminPort > 0)
        {
            try
            {
                admin = AdminServer.Start(new IPEndPoint(BindAddress.Resolve(options.EffectiveAdminBind), options.AdminPort), new AdminEndpoints(exporter, server.Readiness()), log, server.Metrics.Meter, options.AdminTls, server.Tls);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                log.LogCritical("cannot listen on {Bind}:{Port} (admin_port): {Error}", options.EffectiveAdminBind, options.AdminPort, e.Message);
                return 2;
            }
        }
        try
        {
            server.Start();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            log.LogCritical("cannot listen on {Bind}:{Port} (port): {Error}", options.Bind, options.Port, e.Message);
            if (admin is not null) await admin.DisposeAsync();
            return 2;
        }

        await Warmup.RunAsync(server, log, TimeSpan.FromSeconds(5));
        // The warm-up's own TLS connection has tried it by now: say once when idle TLS connections stay heavier.
        if (options.UsesTls && Tls.IdleTlsBuffers.Unavailable is { } why)
            log.LogWarning("idle tls connections keep their openssl record buffers (about 26 KB each): {Reason}", why);
        server.AnnounceListening();
        if (admin is not null) log.LogInformation("admin {Scheme} on {EndPoint}: /metrics /healthz /readyz", options.AdminTls switch { TlsMode.On => "https", TlsMode.Optional => "https or http", _ => "http" }, admin.EndPoint);

        notifications.Ready(server.Wheel);

        await stop.Task;
        notifications.Stopping();
        await server.DrainAsync(server.Options.Current.DrainTimeout);
        if (admin is not null) await admin.DisposeAsync();
        log.LogInformation("presenced stopped");
        return 0;

        void OnStop(PosixSignalContext context)
        {
            context.Cancel = true;
            log.LogInformation("{Signal} received: draining", context.Signal);
            stop.TrySetResult();
        }
    }

    /// <summary>
    /// SIGHUP: re-reads every source and applies what can change live (log level, limits, history
    /// patterns, timeouts); keys that need a restart are named and keep their running value. Open
    /// connections stay; new limits apply to the next check each one makes.
    /// </summary>
    internal static void Reload(PresenceServer server, string[] args, LogLevelSwitch logLevel, ILogger log)
    {
        lock (ReloadLock)
        {
            ServerOptions applied;
            IReadOnlyList<string> changed;
            IReadOnlyList<string> refused;
            try
            {
                applied = ConfigLoader.ApplyReload(server.Options.Current, ConfigLoader.Load(args), out changed, out refused);
            }
            catch (ConfigException e)
            {
                log.LogError("reload refused, settings unchanged: {Error}", e.Message);
                return;
            }
            server.Options.Current = applied;
            logLevel.Level = applied.LogLevel;
            server.History.Reconfigure(applied.HistoryRooms, applied.HistorySize, applied.HistoryTtl);
            foreach (Connections.Connection connection in server.Connections.Registry.All) connection.Outbound.Limit = applied.SendQueueLimit;
            server.Buffers.Configure(applied.BufferPoolMax, applied.BufferPoolTrimInterval);
            ReloadJwtKeys(server, applied, log);
            ReloadTlsCertificate(server, applied, log);
            log.Log(refused.Count > 0 ? LogLevel.Warning : LogLevel.Information,
                "reloaded: changed [{Changed}]; kept (restart needed) [{Refused}]", string.Join(", ", changed), string.Join(", ", refused));
        }
    }

    /// <summary>Key rotation: the JWT key files are re-read; a file that cannot be used keeps the running keys.</summary>
    private static void ReloadJwtKeys(PresenceServer server, ServerOptions applied, ILogger log)
    {
        if (server.Jwt is null) return;
        try
        {
            server.Jwt.Replace(JwtKeys.Load(applied.JwtSecretFile, applied.JwtPublicKeyFile));
            log.LogInformation("jwt keys reloaded: {Keys}", server.Jwt.Description);
        }
        catch (JwtKeyException e)
        {
            log.LogError("jwt keys not reloaded, the running keys stay: {Error}", e.Message);
        }
    }

    /// <summary>Certificate rotation: the files are re-read; new handshakes use them, open connections keep theirs. A pair that cannot be served keeps the running one.</summary>
    private static void ReloadTlsCertificate(PresenceServer server, ServerOptions applied, ILogger log)
    {
        if (server.Tls is null) return;
        try
        {
            server.Tls.Replace(TlsCredentials.Load(applied.TlsCertFile, applied.TlsKeyFile, DateTime.UtcNow));
            log.LogInformation("tls certificate reloaded: {Certificate}", server.Tls.Credentials.Description);
        }
        catch (TlsCertificateException e)
        {
            log.LogError("tls certificate not reloaded, the running one stays: {Error}", e.Message);
        }
    }

    /// <summary>
    /// One line per event on stdout. Under systemd (JOURNAL_STREAM set) lines carry a syslog priority
    /// prefix journald understands and no timestamp (journald adds its own); elsewhere UTC timestamps.
    /// </summary>
    private static ILoggerFactory CreateLoggerFactory(LogLevelSwitch logLevel) => LoggerFactory.Create(builder =>
    {
        builder.AddFilter(level => level >= logLevel.Level);
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM")))
        {
            builder.AddSystemdConsole();
            return;
        }
        builder.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            console.UseUtcTimestamp = true;
            console.ColorBehavior = Console.IsOutputRedirected ? LoggerColorBehavior.Disabled : LoggerColorBehavior.Default;
        });
    });

    private static string Status(PresenceServer server, bool draining)
    {
        int connections = server.Connections.Registry.Count;
        return server.Accepting && !draining
            ? $"serving {connections} connections in {server.Rooms.Count} rooms"
            : $"draining, {connections} connections left";
    }
}

/// <summary>The live log level (SIGHUP changes it without rebuilding the logger).</summary>
internal sealed class LogLevelSwitch(LogLevel level)
{
    public LogLevel Level { get; set; } = level;
}
