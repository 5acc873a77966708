using System.Diagnostics;
using PresenceD.Load.Measurement;
using PresenceD.Load.Scenarios;

namespace PresenceD.Tools.Tests.Load;

/// <summary>The open-loop schedule's arithmetic (no clock involved: timestamps are given).</summary>
public sealed class PacerTests
{
    [Fact]
    public void Message_i_is_due_at_start_plus_i_over_the_rate()
    {
        var pacer = new Pacer(1000, start: 1_000_000, new LatencyRecorder());
        long tick = Stopwatch.Frequency / 1000;

        Assert.Equal(1_000_000, pacer.DueAt(0));
        Assert.Equal(1_000_000 + 250 * tick, pacer.DueAt(250), tick / 1000.0);
        Assert.Equal(0, pacer.DueBy(999_999));
        Assert.Equal(1, pacer.DueBy(1_000_000));
        Assert.Equal(251, pacer.DueBy(pacer.DueAt(250)));
        Assert.Equal(250, pacer.DueBy(pacer.DueAt(250) - 1));
    }

    [Fact]
    public void The_lag_is_due_to_actual_and_nothing_is_skipped_when_late()
    {
        var lag = new LatencyRecorder();
        var pacer = new Pacer(100, start: 0, lag);
        long late = pacer.DueAt(10) + Stopwatch.Frequency / 10; // 100 ms after message 10 was due

        Assert.Equal(21, pacer.DueBy(late));
        pacer.RecordSent(10, late);
        LatencyHistogram recorded = lag.Snapshot();
        Assert.Equal(1, recorded.Count);
        Assert.InRange(recorded.Max, 99_000_000, 101_000_000);
    }

    [Theory]
    [InlineData(1.0, 1000, 0, 1000)]
    [InlineData(1.5, 1000, 0, 1500)]
    [InlineData(10, 1000, 250, 250)]
    [InlineData(0.0001, 5, 0, 1)]
    public void A_phase_sends_rate_times_duration_capped_by_max_messages(double seconds, double rate, long max, long expected) =>
        Assert.Equal(expected, OpenLoopPublisher.Total(TimeSpan.FromSeconds(seconds), rate, max));

    [Fact]
    public void A_rate_must_be_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pacer(0, 0, new LatencyRecorder()));
}
