using System.Diagnostics.Metrics;

namespace PresenceD.Server.Rooms;

/// <summary>The backplane's state as others read it (/readyz, metrics).</summary>
internal enum BackplaneState
{
    /// <summary>Standalone: no backplane to fail.</summary>
    Standalone,
    /// <summary>Redis answers; cross-node delivery works.</summary>
    Healthy,
    /// <summary>Redis failed or hangs: local members are served, cross-node traffic is dropped and counted.</summary>
    Degraded,
    /// <summary>Redis answers again; the node is rewriting its presence and reconciling its rooms.</summary>
    Resyncing,
}

/// <summary>
/// Health and counters of the backplane. Counters are bumped with Interlocked on the paths that cause
/// them; <see cref="State"/> is written by the backplane only.
/// </summary>
internal sealed class BackplaneHealth
{
    private long _published;
    private long _dropped;
    private long _received;
    private long _failures;
    private long _resyncs;
    private long _latencyTotalMicros;
    private long _latencySamples;
    private long _latencyMaxMicros;
    private long _sweeps;
    private long _sweepRemoved;
    private long _subscriptionGaps;
    private int _state;
    private int _circuitState;

    public BackplaneHealth(bool clustered, Histogram<double>? latency = null)
    {
        _state = (int)(clustered ? BackplaneState.Healthy : BackplaneState.Standalone);
        Latency = latency;
    }

    /// <summary>Round trips in seconds, exported as a histogram (null: not exported, e.g. in unit tests).</summary>
    public Histogram<double>? Latency { get; }

    /// <summary>The circuit breaker in front of Redis.</summary>
    public BackplaneCircuitState CircuitState
    {
        get => (BackplaneCircuitState)Volatile.Read(ref _circuitState);
        internal set => Volatile.Write(ref _circuitState, (int)value);
    }

    /// <summary>Presence sweeps run (each room's expired entries looked at once).</summary>
    public long Sweeps => Volatile.Read(ref _sweeps);

    /// <summary>Expired presence entries the sweeps removed (each one's leave published once, cluster-wide).</summary>
    public long SweepRemoved => Volatile.Read(ref _sweepRemoved);

    public BackplaneState State
    {
        get => (BackplaneState)Volatile.Read(ref _state);
        internal set => Volatile.Write(ref _state, (int)value);
    }

    /// <summary>True when cross-node delivery is expected to work (always true standalone).</summary>
    public bool IsHealthy => State is BackplaneState.Healthy or BackplaneState.Standalone;

    /// <summary>Envelopes (messages and presence events) handed to Redis successfully.</summary>
    public long Published => Volatile.Read(ref _published);

    /// <summary>Cross-node messages and presence writes not delivered because Redis was down or slow.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Envelopes received from other nodes.</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Redis calls that failed or timed out (each one, not each item of a batch).</summary>
    public long Failures => Volatile.Read(ref _failures);

    /// <summary>Completed rewrites of this node's presence after Redis came back.</summary>
    public long Resyncs => Volatile.Read(ref _resyncs);

    /// <summary>Mean latency of Redis batches in microseconds.</summary>
    public double MeanLatencyMicros => Volatile.Read(ref _latencySamples) is var n and > 0 ? (double)Volatile.Read(ref _latencyTotalMicros) / n : 0;

    /// <summary>Slowest Redis batch seen, in microseconds.</summary>
    public long MaxLatencyMicros => Volatile.Read(ref _latencyMaxMicros);

    internal void CountPublished(int count) => Interlocked.Add(ref _published, count);

    internal void CountDropped(int count) => Interlocked.Add(ref _dropped, count);

    internal void CountReceived() => Interlocked.Increment(ref _received);

    internal void CountFailure() => Interlocked.Increment(ref _failures);

    internal void CountResync() => Interlocked.Increment(ref _resyncs);

    /// <summary>Room channels this node expected to hold that a Redis server did not count for it (found by the subscription audit, then re-subscribed).</summary>
    public long SubscriptionGaps => Volatile.Read(ref _subscriptionGaps);

    internal void CountSubscriptionGaps(int gaps) => Interlocked.Add(ref _subscriptionGaps, gaps);

    internal void CountSweeps(int rooms, int removed)
    {
        Interlocked.Add(ref _sweeps, rooms);
        Interlocked.Add(ref _sweepRemoved, removed);
    }

    internal void RecordLatency(TimeSpan elapsed)
    {
        Latency?.Record(elapsed.TotalSeconds);
        long micros = (long)elapsed.TotalMicroseconds;
        Interlocked.Add(ref _latencyTotalMicros, micros);
        Interlocked.Increment(ref _latencySamples);
        long max;
        while (micros > (max = Volatile.Read(ref _latencyMaxMicros)) && Interlocked.CompareExchange(ref _latencyMaxMicros, micros, max) != max)
        {
        }
    }
}
