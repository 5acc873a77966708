using System.Diagnostics;
using PresenceD.Load.Measurement;
using PresenceD.Load.Net;
using PresenceD.Load.Reporting;

namespace PresenceD.Load.Scenarios;

/// <summary>
/// C connections in rooms of R members; every connection publishes to its room at --rate messages/s. Open loop
/// (<see cref="OpenLoopPublisher"/>): one pacer thread goes round-robin over the connections, C × rate messages/s in
/// total, latency from each message's due time; each message should reach the R − 1 other members.
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
            double rate = live.Length * options.Rate;
            result.TargetRate = rate;
            await Task.Factory.StartNew(() =>
            {
                if (options.Warmup > TimeSpan.Zero)
                {
                    context.Phase = "warm-up";
                    long warmupExpected = OpenLoopPublisher.Run(context, live, rate, OpenLoopPublisher.Total(options.Warmup, rate, 0));
                    context.Stats.WaitDelivered(warmupExpected, 5000);
                    context.Stats.ResetMeasurements();
                }
                context.Phase = "measuring";
                var meter = new Meter(context, paced: true);
                result.Expected = OpenLoopPublisher.Run(context, live, rate, OpenLoopPublisher.Total(options.Duration, rate, options.MaxMessages));
                meter.SendingDone();
                context.Stats.WaitDelivered(result.Expected, 5000);
                meter.Finish(result, context.Stats);
            }, context.Cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            ConnectionOpener.CloseAll(context, connections);
        }
    }
}
