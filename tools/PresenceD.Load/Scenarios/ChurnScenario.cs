using System.Diagnostics;
using PresenceD.Load.Measurement;
using PresenceD.Load.Net;
using PresenceD.Load.Reporting;
using PresenceD.Protocol;

namespace PresenceD.Load.Scenarios;

/// <summary>
/// C workers that each connect, JOIN and LEAVE random rooms (of about --room-size members) at --rate operations/s,
/// and reconnect after every ten operations, alternating a clean BYE with an abrupt reset. Halfway through, every
/// worker drops its connection at once and reconnects (a reconnect storm). Latency is the JOIN/LEAVE round trip.
/// </summary>
internal static class ChurnScenario
{
    private const int OperationsPerConnection = 10;
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(LoadContext context, LoadResult result)
    {
        LoadOptions options = context.Options;
        int workers = options.Connections;
        int rooms = Math.Max(1, workers / options.RoomSize);
        result.Rooms = rooms;
        result.LatencyOf = "join/leave round trip";
        context.Phase = "churning";
        var meter = new Meter(options.ServerPid);
        long end = Stopwatch.GetTimestamp() + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        var storm = new StormSignal(Stopwatch.GetTimestamp() + (end - Stopwatch.GetTimestamp()) / 2);
        long replies = 0;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            long done = await RunWorkerAsync(context, w, rooms, end, storm);
            Interlocked.Add(ref replies, done);
        })));
        meter.Finish(result, context.Stats);
        result.Connections = (int)context.Stats.Opened;
        result.Delivered = replies;
        result.Expected = result.Sent;
        result.Note = $"connections_opened={context.Stats.Opened}; presence_diffs={context.Stats.Diffs}; storms={(storm.Fired ? 1 : 0)}";
    }

    private static async Task<long> RunWorkerAsync(LoadContext context, int worker, int rooms, long end, StormSignal storm)
    {
        var random = new Random(worker);
        long replies = 0;
        uint rid = 1;
        bool bye = false;
        TimeSpan pause = TimeSpan.FromSeconds(1.0 / context.Options.Rate);
        while (Stopwatch.GetTimestamp() < end && !context.Cancellation.IsCancellationRequested)
        {
            LoadConnection connection;
            try
            {
                connection = await LoadConnection.OpenAsync(context.Server, null, "churn" + worker, context.Stats, context.Cancellation);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                context.Stats.Error("connect: " + e.GetType().Name);
                await Task.Delay(pause, context.Cancellation);
                continue;
            }
            context.Heartbeats.Add(connection);
            bool stormSeen = storm.Fired;
            try
            {
                for (int op = 0; op < OperationsPerConnection / 2 && Stopwatch.GetTimestamp() < end && connection.IsOpen; op++)
                {
                    string room = $"{context.Options.RoomPrefix}-churn{random.Next(rooms)}";
                    if (await TimedRequestAsync(context, connection, (c, r) => c.Join(room, r), ++rid)) replies++;
                    await Task.Delay(pause, context.Cancellation);
                    if (await TimedRequestAsync(context, connection, (c, r) => c.Leave(room, r), ++rid)) replies++;
                    await Task.Delay(pause, context.Cancellation);
                    if (!stormSeen && storm.Fired) break;
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                context.Heartbeats.Remove(connection);
                connection.Close(bye: bye && !(storm.Fired && !stormSeen));
                bye = !bye;
            }
        }
        return replies;
    }

    private static async Task<bool> TimedRequestAsync(LoadContext context, LoadConnection connection, Action<LoadConnection, uint> write, uint rid)
    {
        long started = Stopwatch.GetTimestamp();
        context.Stats.AddSent(1);
        try
        {
            ErrorCode code = await connection.RequestAsync(write, rid, ReplyTimeout);
            if (code != ErrorCode.None) return false;
            context.Stats.Latency.Value!.Record((long)((Stopwatch.GetTimestamp() - started) * (1e9 / Stopwatch.Frequency)));
            return true;
        }
        catch (TimeoutException)
        {
            context.Stats.Error("request timeout");
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Fires once, when the clock passes the storm time.</summary>
    private sealed class StormSignal(long at)
    {
        public bool Fired => Stopwatch.GetTimestamp() >= at;
    }
}
