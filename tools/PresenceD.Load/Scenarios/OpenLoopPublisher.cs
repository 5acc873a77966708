using System.Diagnostics;
using PresenceD.Load.Measurement;
using PresenceD.Load.Net;

namespace PresenceD.Load.Scenarios;

/// <summary>
/// Publishes on an open-loop schedule (<see cref="Pacer"/>): message i goes out round-robin through sender i mod N,
/// to that sender's <see cref="LoadConnection.Room"/>, stamped with its due time. The loop sleeps 1 ms when nothing is
/// due and, when it finds itself late, sends everything that has fallen due at once (nothing is skipped), so a run
/// sends exactly rate × duration messages and a stall shows as latency and pacer lag, not as a gap in the schedule.
/// </summary>
internal static class OpenLoopPublisher
{
    /// <summary>Sends <paramref name="total"/> messages at <paramref name="ratePerSecond"/> in total; returns the deliveries expected.</summary>
    public static long Run(LoadContext context, LoadConnection[] senders, double ratePerSecond, long total)
    {
        if (senders.Length == 0 || total <= 0) return 0;
        var pacer = new Pacer(ratePerSecond, Stopwatch.GetTimestamp(), context.Stats.PacerLag, context.Options.PacerStall);
        byte[] payload = Payload.Create(context.Options.Payload);
        // Senders written to in this round, flushed together: one system call per connection per round.
        var dirty = new bool[senders.Length];
        var dirtyList = new int[senders.Length];
        long sent = 0, expected = 0;
        while (sent < total && !context.Cancellation.IsCancellationRequested)
        {
            pacer.PauseIfScheduled();
            long now = Stopwatch.GetTimestamp();
            long due = Math.Min(total, pacer.DueBy(now));
            if (due == sent)
            {
                Thread.Sleep(1);
                continue;
            }
            int dirtyCount = 0;
            long first = sent;
            for (; sent < due; sent++)
            {
                int index = (int)(sent % senders.Length);
                LoadConnection sender = senders[index];
                Payload.Stamp(payload, pacer.DueAt(sent));
                sender.Publish(sender.Room, payload);
                pacer.RecordSent(sent, now);
                expected += sender.Fanout;
                if (dirty[index]) continue;
                dirty[index] = true;
                dirtyList[dirtyCount++] = index;
            }
            for (int i = 0; i < dirtyCount; i++)
            {
                senders[dirtyList[i]].Flush();
                dirty[dirtyList[i]] = false;
            }
            context.Stats.AddSent(sent - first);
        }
        return expected;
    }

    /// <summary>Messages a phase of <paramref name="duration"/> at <paramref name="ratePerSecond"/> sends, capped by --max-messages.</summary>
    public static long Total(TimeSpan duration, double ratePerSecond, long maxMessages)
    {
        long scheduled = Math.Max(1, (long)Math.Round(duration.TotalSeconds * ratePerSecond));
        return maxMessages > 0 ? Math.Min(scheduled, maxMessages) : scheduled;
    }
}
