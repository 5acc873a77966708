using System.Diagnostics;
using PresenceD.Load.Measurement;
using PresenceD.Load.Net;
using PresenceD.Load.Reporting;
using PresenceD.Protocol;

namespace PresenceD.Load.Scenarios;

/// <summary>
/// C workers that each connect, JOIN and LEAVE random rooms (of about --room-size members) at --rate operations/s,
/// and reconnect after every ten operations, alternating a clean BYE with an abrupt reset. Halfway through, every
/// worker drops its connection at once and reconnects (a reconnect storm). Open loop: each worker's operations are
/// due at start + k / rate (workers offset evenly within the first period); latency runs from the due time to the
/// reply, so a slow reply or a reconnect delays, and is charged to, the operations behind it. Pacer lag is due → sent.
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
        result.TargetRate = workers * options.Rate;
        var meter = new Meter(context, paced: true);
        long start = Stopwatch.GetTimestamp();
        long end = start + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        var storm = new StormSignal(Stopwatch.GetTimestamp() + (end - Stopwatch.GetTimestamp()) / 2);
        long replies = 0;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            // Worker w's first operation is due w / workers of a period in, so the workers do not fire in step.
            var pacer = new Pacer(options.Rate, start + (long)(Stopwatch.Frequency / options.Rate * w / workers), context.Stats.PacerLag, options.PacerStall);
            long done = await RunWorkerAsync(context, w, rooms, end, storm, pacer);
            Interlocked.Add(ref replies, done);
        })));
        meter.SendingDone();
        meter.Finish(result, context.Stats);
        result.Connections = (int)context.Stats.Opened;
        result.Delivered = replies;
        result.Expected = result.Sent;
        result.ConnectionsOpened = context.Stats.Opened;
        result.PresenceDiffs = context.Stats.Diffs;
        result.Storms = storm.Fired ? 1 : 0;
    }

    private static async Task<long> RunWorkerAsync(LoadContext context, int worker, int rooms, long end, StormSignal storm, Pacer pacer)
    {
        var random = new Random(worker);
        long replies = 0, operation = 0;
        uint rid = 1;
        bool bye = false;
        while (pacer.DueAt(operation) < end && !context.Cancellation.IsCancellationRequested)
        {
            LoadConnection connection;
            try
            {
                LoadTarget target = context.TargetFor(worker);
                connection = await LoadConnection.OpenAsync(target.Endpoint, null, "churn" + worker, context.Stats, target.Tls, context.Cancellation);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                context.Stats.Error("connect: " + e.GetType().Name);
                // Retry after one period; the operations due meanwhile are not skipped: they go out late, and are charged for it.
                await Task.Delay(TimeSpan.FromSeconds(1.0 / context.Options.Rate), context.Cancellation);
                continue;
            }
            context.Heartbeats.Add(connection);
            bool stormSeen = storm.Fired;
            try
            {
                for (int op = 0; op < OperationsPerConnection / 2 && connection.IsOpen; op++)
                {
                    if (pacer.DueAt(operation) >= end) break;
                    string room = $"{context.Options.RoomPrefix}-churn{random.Next(rooms)}";
                    await pacer.WaitForAsync(operation, context.Cancellation);
                    if (await TimedRequestAsync(context, connection, (c, r) => c.Join(room, r), ++rid, pacer, operation++)) replies++;
                    await pacer.WaitForAsync(operation, context.Cancellation);
                    if (await TimedRequestAsync(context, connection, (c, r) => c.Leave(room, r), ++rid, pacer, operation++)) replies++;
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

    /// <summary>Sends operation <paramref name="operation"/> of the worker's schedule and records its latency from the due time.</summary>
    private static async Task<bool> TimedRequestAsync(LoadContext context, LoadConnection connection, Action<LoadConnection, uint> write, uint rid, Pacer pacer, long operation)
    {
        pacer.PauseIfScheduled();
        pacer.RecordSent(operation, Stopwatch.GetTimestamp());
        context.Stats.AddSent(1);
        try
        {
            ErrorCode code = await connection.RequestAsync(write, rid, ReplyTimeout);
            if (code != ErrorCode.None) return false;
            context.Stats.Latency.Record(Pacer.TicksToNanoseconds(Stopwatch.GetTimestamp() - pacer.DueAt(operation)));
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
