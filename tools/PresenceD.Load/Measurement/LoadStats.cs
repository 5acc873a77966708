using System.Collections.Concurrent;

namespace PresenceD.Load.Measurement;

/// <summary>
/// Counters shared by every connection of a run. Receive loops add deliveries once per socket read (not per
/// message) and record latencies into a histogram of their own thread, so the hot path takes no lock.
/// </summary>
internal sealed class LoadStats
{
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private long _delivered;
    private long _sent;
    private long _joined;
    private long _diffs;
    private long _pongs;
    private long _opened;
    private long _closedByServer;
    private long _wakeAt = long.MaxValue;
    private int _waiting;

    /// <summary>Delivery latency (or request round trip), from the due time in open-loop runs.</summary>
    public LatencyRecorder Latency { get; } = new();

    /// <summary>Open-loop runs: how late each message or request went out after its due time.</summary>
    public LatencyRecorder PacerLag { get; } = new();

    public long Delivered => Interlocked.Read(ref _delivered);

    public long Sent => Interlocked.Read(ref _sent);

    public long Joined => Interlocked.Read(ref _joined);

    public long Diffs => Interlocked.Read(ref _diffs);

    public long Pongs => Interlocked.Read(ref _pongs);

    public long Opened => Interlocked.Read(ref _opened);

    public long ClosedByServer => Interlocked.Read(ref _closedByServer);

    public long ErrorCount => _errors.Values.Sum();

    public IReadOnlyDictionary<string, long> Errors => new SortedDictionary<string, long>(_errors, StringComparer.Ordinal);

    public void AddSent(long n) => Interlocked.Add(ref _sent, n);

    public void AddJoined() => Interlocked.Increment(ref _joined);

    public void AddDiffs(int n) => Interlocked.Add(ref _diffs, n);

    public void AddPongs(int n) => Interlocked.Add(ref _pongs, n);

    public void AddOpened() => Interlocked.Increment(ref _opened);

    public void AddClosedByServer() => Interlocked.Increment(ref _closedByServer);

    public void Error(string key) => _errors.AddOrUpdate(key, 1, static (_, n) => n + 1);

    public void AddDelivered(int n)
    {
        if (Interlocked.Add(ref _delivered, n) >= Volatile.Read(ref _wakeAt) && Interlocked.Exchange(ref _waiting, 0) == 1)
            _wake.Release();
    }

    /// <summary>Blocks the one caller until <see cref="Delivered"/> reaches <paramref name="target"/>; false on timeout.</summary>
    public bool WaitDelivered(long target, int timeoutMs)
    {
        if (Delivered >= target) return true;
        Volatile.Write(ref _wakeAt, target);
        Interlocked.Exchange(ref _waiting, 1);
        if (Delivered >= target && Interlocked.Exchange(ref _waiting, 0) == 1) return true;
        if (_wake.Wait(timeoutMs)) return true;
        // A receiver may have claimed the wake-up just as the wait timed out: take its release so none is left over.
        if (Interlocked.Exchange(ref _waiting, 0) == 0) _wake.Wait();
        return Delivered >= target;
    }

    /// <summary>Zeroes deliveries, sends and latencies and pacer lag after a warm-up (call when nothing is in flight).</summary>
    public void ResetMeasurements()
    {
        Interlocked.Exchange(ref _delivered, 0);
        Interlocked.Exchange(ref _sent, 0);
        Latency.Reset();
        PacerLag.Reset();
    }

    public static async Task<bool> WaitUntilAsync(Func<bool> done, TimeSpan timeout, CancellationToken cancellation = default)
    {
        DateTime end = DateTime.UtcNow + timeout;
        while (!done())
        {
            if (DateTime.UtcNow > end) return false;
            await Task.Delay(10, cancellation);
        }
        return true;
    }
}
