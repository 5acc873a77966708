using System.Diagnostics;
using PresenceD.Load.Measurement;
using PresenceD.Load.Net;
using PresenceD.Load.Reporting;

namespace PresenceD.Load.Scenarios;

/// <summary>
/// One room, S subscribers and P publishers (all members, so a message reaches S + P − 1 connections). With --rate,
/// open loop: the publishers together send rate messages/s on a schedule, latency from each message's due time
/// (<see cref="OpenLoopPublisher"/>). Without it, closed loop: the publishers keep at most window × P messages in
/// flight, where in flight = sent − deliveries / fan-out, refilling when a quarter has drained (FanoutBench's W1
/// rule), so the server's backlog stays bounded; latency then runs from the actual send.
/// </summary>
internal static class FanoutScenario
{
    public static async Task RunAsync(LoadContext context, LoadResult result)
    {
        LoadOptions options = context.Options;
        string room = options.RoomPrefix + "-fanout";
        (result.Rooms, result.Window) = (1, options.Window);
        var setup = Stopwatch.StartNew();
        context.Phase = "joining subscribers";
        LoadConnection?[] subscribers = await ConnectionOpener.OpenManyAsync(context, options.Subscribers, i => "sub" + i, (_, c) => c.Join(room, 1));
        context.Phase = "joining publishers";
        LoadConnection?[] publishers = await ConnectionOpener.OpenManyAsync(context, options.Publishers, i => "pub" + i, (_, c) => c.Join(room, 1));
        try
        {
            LoadConnection[] livePublishers = publishers.OfType<LoadConnection>().ToArray();
            int members = subscribers.Count(c => c is not null) + livePublishers.Length;
            result.Connections = members;
            await Scenario.WaitJoinedAsync(context, members);
            result.SetupSeconds = setup.Elapsed.TotalSeconds;
            if (livePublishers.Length == 0) throw new LoadException("no publisher could connect");
            int fanout = members - 1;
            foreach (LoadConnection publisher in livePublishers) (publisher.Room, publisher.Fanout) = (room, fanout);
            bool paced = options.Rate > 0;
            if (paced) (result.TargetRate, result.Window) = (options.Rate, 0);
            await Task.Factory.StartNew(() =>
            {
                if (options.Warmup > TimeSpan.Zero)
                {
                    context.Phase = "warm-up";
                    Publish(context, livePublishers, room, fanout, options.Warmup, 0, null);
                    context.Stats.ResetMeasurements();
                }
                context.Phase = "measuring";
                var meter = new Meter(context, paced);
                result.Expected = Publish(context, livePublishers, room, fanout, options.Duration, options.MaxMessages, meter);
                meter.Finish(result, context.Stats);
            }, context.Cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            ConnectionOpener.CloseAll(context, subscribers);
            ConnectionOpener.CloseAll(context, publishers);
        }
    }

    /// <summary>
    /// Publishes for <paramref name="duration"/> (or <paramref name="maxMessages"/>), at --rate or windowed, then waits up
    /// to 5 s for the last deliveries; returns the deliveries expected.
    /// </summary>
    private static long Publish(LoadContext context, LoadConnection[] publishers, string room, int fanout, TimeSpan duration, long maxMessages, Meter? meter)
    {
        long expected;
        if (context.Options.Rate > 0)
        {
            expected = OpenLoopPublisher.Run(context, publishers, context.Options.Rate, OpenLoopPublisher.Total(duration, context.Options.Rate, maxMessages));
        }
        else
        {
            expected = PublishWindowed(context, publishers, room, fanout, duration, maxMessages) * fanout;
        }
        meter?.SendingDone();
        context.Stats.WaitDelivered(expected, 5000);
        return expected;
    }

    /// <summary>Closed loop: publishes while at most the window is in flight; returns the messages sent.</summary>
    private static long PublishWindowed(LoadContext context, LoadConnection[] publishers, string room, int fanout, TimeSpan duration, long maxMessages)
    {
        LoadStats stats = context.Stats;
        int window = context.Options.Window * publishers.Length;
        int refill = Math.Max(1, window / 4);
        long sent = 0, baseline = stats.Delivered;
        byte[] payload = Payload.Create(context.Options.Payload);
        long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end && !context.Cancellation.IsCancellationRequested && (maxMessages == 0 || sent < maxMessages))
        {
            long inFlight = sent - (fanout == 0 ? sent : (stats.Delivered - baseline) / fanout);
            if (inFlight > window - refill)
            {
                if (stats.WaitDelivered(baseline + (sent - window + refill) * fanout, 5000)) continue;
                stats.Error("stalled: no deliveries for 5 s");
                break;
            }
            long batch = 0;
            for (; inFlight < window && (maxMessages == 0 || sent < maxMessages); inFlight++, sent++, batch++)
            {
                Payload.Stamp(payload, Stopwatch.GetTimestamp());
                publishers[sent % publishers.Length].Publish(room, payload);
            }
            foreach (LoadConnection publisher in publishers) publisher.Flush();
            stats.AddSent(batch);
        }
        return sent;
    }
}
