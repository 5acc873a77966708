using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Configuration;

namespace PresenceD.Server.Hosting;

/// <summary>
/// `presenced [config-file] [--key value ...] [--check-config] [--help]`: loads the settings (file, then
/// PRESENCED_* environment, then command line), runs the daemon, drains on SIGTERM/SIGINT and reloads
/// on SIGHUP. Exit codes: 0 after a clean drain or a valid --check-config, 1 for a configuration error,
/// 2 when the daemon could not start (e.g. the port is taken).
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
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
        switch (options.Command)
        {
            case ConfigCommand.Help:
                Console.WriteLine(ConfigLoader.HelpText());
                return 0;
            case ConfigCommand.CheckConfig:
                Console.Write(ConfigLoader.Describe(options));
                return 0;
        }

        var logLevel = new LogLevelSwitch(options.LogLevel);
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder
            .AddFilter(level => level >= logLevel.Level)
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                console.UseUtcTimestamp = true;
            }));
        ILogger log = loggerFactory.CreateLogger("presenced");

        foreach (string ignored in options.IgnoredEnvironment) log.LogWarning("environment {Variable} names no setting; ignored", ignored);
        await using var server = new PresenceServer(options, loggerFactory);
        try
        {
            server.Start();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            log.LogCritical("cannot listen on {Bind}:{Port}: {Error}", options.Bind, options.Port, e.Message);
            return 2;
        }

        await Warmup.RunAsync(server, log, TimeSpan.FromSeconds(5));
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStop);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStop);
        using PosixSignalRegistration hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Reload(server, args, logLevel, log);
        });

        await stop.Task;
        await server.DrainAsync(server.Context.Options.DrainTimeout);
        log.LogInformation("presenced stopped");
        return 0;

        void OnStop(PosixSignalContext context)
        {
            context.Cancel = true;
            log.LogInformation("{Signal} received: draining", context.Signal);
            stop.TrySetResult();
        }
    }

    /// <summary>SIGHUP: re-reads every source, applies what can change live, reports and keeps the rest.</summary>
    private static void Reload(PresenceServer server, string[] args, LogLevelSwitch logLevel, ILogger log)
    {
        ServerOptions reloaded;
        try
        {
            reloaded = ConfigLoader.Load(args);
        }
        catch (ConfigException e)
        {
            log.LogError("reload refused, settings unchanged: {Error}", e.Message);
            return;
        }
        ServerContext context = server.Context;
        ServerOptions applied = ConfigLoader.ApplyReload(context.Options, reloaded, out IReadOnlyList<string> changed, out IReadOnlyList<string> refused);
        context.Options = applied;
        logLevel.Level = applied.LogLevel;
        context.History.Reconfigure(applied.HistoryRooms, applied.HistorySize, applied.HistoryTtl);
        foreach (Connections.Connection connection in context.Connections.All) connection.Outbound.Limit = applied.SendQueueLimit;
        log.LogInformation("reloaded: changed [{Changed}]; kept (restart needed) [{Refused}]", string.Join(", ", changed), string.Join(", ", refused));
    }
}

/// <summary>The live log level (SIGHUP changes it without rebuilding the logger).</summary>
internal sealed class LogLevelSwitch(LogLevel level)
{
    public LogLevel Level { get; set; } = level;
}
