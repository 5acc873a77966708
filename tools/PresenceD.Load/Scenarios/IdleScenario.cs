using System.Diagnostics;
using PresenceD.Load.Measurement;
using PresenceD.Load.Net;
using PresenceD.Load.Reporting;

namespace PresenceD.Load.Scenarios;

/// <summary>
/// N connections, each in a room of its own, that then only heartbeat for --duration. Above 25,000 connections
/// they come from 127.0.0.2, 127.0.0.3, ... so the ephemeral port range does not run out. With --server-pid it
/// reports the server's memory growth per connection; at the end it checks every connection is still alive.
/// </summary>
internal static class IdleScenario
{
    public static async Task RunAsync(LoadContext context, LoadResult result)
    {
        LoadOptions options = context.Options;
        var server = options.ServerPid > 0 ? new ProcessSampler(options.ServerPid) : null;
        long rssBefore = server?.RssKilobytes() ?? 0;
        var setup = Stopwatch.StartNew();
        context.Phase = "connecting";
        LoadConnection?[] connections = await ConnectionOpener.OpenManyAsync(context, options.Connections, i => "idle" + i, (i, c) =>
        {
            c.Room = $"{options.RoomPrefix}-idle{i}";
            c.Join(c.Room, 1);
        }, parallel: 128);
        try
        {
            LoadConnection[] live = connections.OfType<LoadConnection>().ToArray();
            result.Connections = live.Length;
            result.Rooms = live.Length;
            await Scenario.WaitJoinedAsync(context, live.Length);
            result.SetupSeconds = setup.Elapsed.TotalSeconds;
            context.Phase = "idle (heartbeats only)";
            var meter = new Meter(context, paced: false);
            long pongsBefore = context.Stats.Pongs;
            await Task.Delay(options.Duration, context.Cancellation);
            meter.Finish(result, context.Stats);
            int alive = live.Count(c => c.IsOpen);
            result.Delivered = context.Stats.Pongs - pongsBefore;
            result.Alive = alive;
            if (server is not null && live.Length > 0) result.KbPerConnection = (server.RssKilobytes() - rssBefore) / (double)live.Length;
            if (alive < live.Length) context.Stats.Error("connections lost while idle");
            result.Errors = context.Stats.Errors;
        }
        finally
        {
            ConnectionOpener.CloseAll(context, connections);
        }
    }
}
