using System.Diagnostics;

namespace PresenceD.Load.Measurement;

/// <summary>
/// An open-loop schedule: message i is due at start + i / rate, whatever happened to the ones before it (wrk2's
/// model). Senders stamp a message with its due time, not the time they got round to sending it, so a stall of the
/// sender (GC, a descheduled thread, a full socket buffer) shows in the latency of every message it delayed instead
/// of vanishing from the histogram (coordinated omission). How late the sender was is recorded as the pacer lag.
/// </summary>
internal sealed class Pacer
{
    private readonly double _ticksPerMessage;
    private readonly LatencyRecorder _lag;
    private readonly long _stallAt;
    private readonly TimeSpan _stallFor;
    private bool _stalled;

    /// <param name="ratePerSecond">Messages per second in total.</param>
    /// <param name="start">Stopwatch timestamp at which message 0 is due.</param>
    /// <param name="lag">Where due → actual delays go (nanoseconds).</param>
    /// <param name="stall">Test hook: once, this far into the schedule, the sender sleeps this long (a simulated pause).</param>
    public Pacer(double ratePerSecond, long start, LatencyRecorder lag, PacerStall? stall = null)
    {
        if (!(ratePerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(ratePerSecond), "the rate must be positive");
        _ticksPerMessage = Stopwatch.Frequency / ratePerSecond;
        Start = start;
        _lag = lag;
        _stallAt = stall is { } s ? start + (long)(s.At.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        _stallFor = stall?.For ?? TimeSpan.Zero;
    }

    public long Start { get; }

    /// <summary>The Stopwatch timestamp at which message <paramref name="index"/> is due.</summary>
    public long DueAt(long index) => Start + (long)(index * _ticksPerMessage);

    /// <summary>How many messages are due by <paramref name="now"/> (those with due time ≤ now).</summary>
    public long DueBy(long now) => now < Start ? 0 : (long)((now - Start) / _ticksPerMessage) + 1;

    /// <summary>Records that message <paramref name="index"/> went out at <paramref name="sentAt"/>.</summary>
    public void RecordSent(long index, long sentAt) => _lag.Record(TicksToNanoseconds(sentAt - DueAt(index)));

    /// <summary>
    /// The test hook's pause, when its time has come (once per run). Senders call it once per round; a real stall
    /// (GC, a descheduled thread) needs no call.
    /// </summary>
    public void PauseIfScheduled()
    {
        if (_stalled || Stopwatch.GetTimestamp() < _stallAt) return;
        _stalled = true;
        Thread.Sleep(_stallFor);
    }

    /// <summary>The asynchronous wait, for schedules kept by tasks (churn): no thread is held while waiting.</summary>
    public async Task WaitForAsync(long index, CancellationToken cancellation)
    {
        long ahead = DueAt(index) - Stopwatch.GetTimestamp();
        if (ahead > 0) await Task.Delay(TimeSpan.FromSeconds((double)ahead / Stopwatch.Frequency), cancellation);
    }

    public static long TicksToNanoseconds(long ticks) => (long)(ticks * (1e9 / Stopwatch.Frequency));
}

/// <summary>A deliberate pause of the pacer (tests prove the coordinated-omission correction with it).</summary>
internal readonly record struct PacerStall(TimeSpan At, TimeSpan For);
