using System.Diagnostics;
using PresenceD.Load.Measurement;
using PresenceD.Load.Net;
using PresenceD.Load.Reporting;

namespace PresenceD.Load.Scenarios;

/// <summary>
/// C connections in rooms of R members; every connection publishes to its room at --rate messages/s. Open loop: a
/// pacer thread goes round-robin over the connections in 1 ms ticks, so the total is C × rate messages/s and each
/// message should reach the R − 1 other members.
/// </summary>
internal static class RoomsScenario
{
    public static async Task RunAsync(LoadContext context, LoadResult result)
    {
        LoadOptions options = context.Options;
        int count = options.Connections, size = options.RoomSize;
        result.Rooms = (count + size - 1) / size;
        var setup = Stopwatch.StartNew();
        context.Phase = "joining";
        LoadConnection?[] connections = await ConnectionOpener.OpenManyAsync(context, count, i => "user" + i, (i, c) =>
        {
            c.Room = $"{options.RoomPrefix}-r{i / size}";
            c.Join(c.Room, 1);
        });
        try
        {
            LoadConnection[] live = connections.OfType<LoadConnection>().ToArray();
            result.Connections = live.Length;
            foreach (IGrouping<string, LoadConnection> room in live.GroupBy(c => c.Room))
                foreach (LoadConnection member in room) member.Fanout = room.Count() - 1;
            await Scenario.WaitJoinedAsync(context, live.Length);
            result.SetupSeconds = setup.Elapsed.TotalSeconds;
            await Task.Factory.StartNew(() =>
            {
                if (options.Warmup > TimeSpan.Zero)
                {
                    context.Phase = "warm-up";
                    long warmupExpected = PublishPaced(context, live, options.Warmup, 0);
                    context.Stats.WaitDelivered(warmupExpected, 5000);
                    context.Stats.ResetMeasurements();
                }
                context.Phase = "measuring";
                var meter = new Meter(options.ServerPid);
                result.Expected = PublishPaced(context, live, options.Duration, options.MaxMessages);
                context.Stats.WaitDelivered(result.Expected, 5000);
                meter.Finish(result, context.Stats);
                result.Note = $"target_rate={live.Length * options.Rate:0.#}/s";
            }, context.Cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            ConnectionOpener.CloseAll(context, connections);
        }
    }

    /// <summary>Publishes at C × rate per second for <paramref name="duration"/>; returns the deliveries expected.</summary>
    private static long PublishPaced(LoadContext context, LoadConnection[] connections, TimeSpan duration, long maxMessages)
    {
        if (connections.Length == 0) return 0;
        double perTick = connections.Length * context.Options.Rate / Stopwatch.Frequency;
        long start = Stopwatch.GetTimestamp(), end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long sent = 0, expected = 0;
        byte[] payload = Payload.Create(context.Options.Payload);
        for (long now; (now = Stopwatch.GetTimestamp()) < end && !context.Cancellation.IsCancellationRequested; Thread.Sleep(1))
        {
            long due = (long)((now - start) * perTick);
            if (maxMessages > 0) due = Math.Min(due, maxMessages);
            long before = sent;
            for (; sent < due; sent++)
            {
                LoadConnection connection = connections[sent % connections.Length];
                Payload.Stamp(payload, Stopwatch.GetTimestamp());
                connection.Publish(connection.Room, payload);
                connection.Flush();
                expected += connection.Fanout;
            }
            context.Stats.AddSent(sent - before);
        }
        return expected;
    }
}
