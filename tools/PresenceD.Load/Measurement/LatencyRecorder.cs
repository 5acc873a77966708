namespace PresenceD.Load.Measurement;

/// <summary>
/// Latencies recorded from many threads without a lock: each thread writes a cumulative histogram of its own, and a
/// reader sums them into a snapshot (whole run) or subtracts two snapshots (one interval).
/// </summary>
internal sealed class LatencyRecorder
{
    private readonly ThreadLocal<LatencyHistogram> _perThread = new(() => new LatencyHistogram(), trackAllValues: true);

    /// <summary>This thread's histogram: receive loops fetch it once per socket read and record into it.</summary>
    public LatencyHistogram ForThisThread => _perThread.Value!;

    public void Record(long nanoseconds) => _perThread.Value!.Record(nanoseconds);

    /// <summary>Values recorded so far, over all threads (cheap: no snapshot).</summary>
    public long TotalCount => _perThread.Values.Sum(h => h.Count);

    /// <summary>Sums every thread's histogram into <paramref name="into"/> (exact once writers are quiet).</summary>
    public void SnapshotInto(LatencyHistogram into)
    {
        into.Clear();
        foreach (LatencyHistogram histogram in _perThread.Values) into.Add(histogram);
    }

    public LatencyHistogram Snapshot()
    {
        var all = new LatencyHistogram();
        SnapshotInto(all);
        return all;
    }

    /// <summary>Forgets everything recorded (after a warm-up, when nothing is in flight).</summary>
    public void Reset()
    {
        foreach (LatencyHistogram histogram in _perThread.Values) histogram.Clear();
    }
}
