using System.Diagnostics.Metrics;
using PresenceD.Protocol;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The daemon's counters. Hot paths bump plain fields with Interlocked (no allocation, no tags on the
/// hot path); System.Diagnostics.Metrics observable instruments read them, named as Prometheus expects
/// once exported (presenced_..._total).
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "PresenceD";

    private static readonly CloseReason[] CloseReasonValues = Enum.GetValues<CloseReason>();
    private static readonly ErrorCode[] ErrorCodeValues = Enum.GetValues<ErrorCode>();
    private static readonly BackplaneCircuitState[] CircuitStates = Enum.GetValues<BackplaneCircuitState>();

    private readonly Meter _meter = new(MeterName);
    private readonly long[] _closes = new long[CloseReasonValues.Length];
    private readonly long[] _errors = new long[ErrorCodeValues.Max(c => (int)c) + 1];
    private long _accepted;
    private long _framesIn;
    private long _bytesIn;
    private long _bytesOut;
    private long _publishes;
    private long _deliveries;
    private long _dropped;
    private long _repliesSent;
    private long _sweeps;
    private long _sweepRemoved;
    private long _backplaneErrors;
    private int _circuitState;

    public ServerMetrics(Func<long> connections, Func<long> rooms, Func<long> members)
    {
        _meter.CreateObservableGauge("presenced_connections", connections, description: "Open client connections");
        _meter.CreateObservableGauge("presenced_rooms", rooms, description: "Rooms with local members");
        _meter.CreateObservableGauge("presenced_members", members, description: "Local room memberships");
        _meter.CreateObservableCounter("presenced_connections_accepted_total", () => Read(ref _accepted), description: "Connections accepted");
        _meter.CreateObservableCounter("presenced_frames_received_total", () => Read(ref _framesIn), description: "Client frames decoded");
        _meter.CreateObservableCounter("presenced_received_bytes_total", () => Read(ref _bytesIn), "By", "Bytes read from client sockets");
        _meter.CreateObservableCounter("presenced_sent_bytes_total", () => Read(ref _bytesOut), "By", "Bytes written to client sockets");
        _meter.CreateObservableCounter("presenced_publishes_total", () => Read(ref _publishes), description: "PUBLISH requests that took effect");
        _meter.CreateObservableCounter("presenced_deliveries_total", () => Read(ref _deliveries), description: "Frames queued to local members by fan-out");
        _meter.CreateObservableCounter("presenced_dropped_total", () => Read(ref _dropped), description: "Messages dropped (not joined with rid 0, rate limited, backplane down)");
        _meter.CreateObservableCounter("presenced_connection_closes_total", ObserveCloses, description: "Connection closes by reason");
        _meter.CreateObservableCounter("presenced_errors_total", ObserveErrors, description: "ERROR replies by code (kind client: the request was refused; kind server: a server fault)");
        _meter.CreateObservableCounter("presenced_frames_sent_total", () => Read(ref _repliesSent) + Read(ref _deliveries), description: "Frames queued to clients: replies and fan-out deliveries");
        _meter.CreateObservableCounter("presenced_heartbeat_timeouts_total", () => Closes(CloseReason.HeartbeatTimeout), description: "Connections closed for silence past heartbeat_timeout");
        _meter.CreateObservableCounter("presenced_slow_consumers_total", () => Closes(CloseReason.SlowConsumer), description: "Connections closed for queuing more than send_queue_limit");
        _meter.CreateObservableGauge("presenced_backplane_circuit_state", ObserveCircuit, description: "Backplane circuit breaker: 1 for the current state, 0 for the others");
        _meter.CreateObservableCounter("presenced_backplane_errors_total", () => Read(ref _backplaneErrors), description: "Backplane calls that failed or timed out");
        _meter.CreateObservableCounter("presenced_sweeps_total", () => Read(ref _sweeps), description: "Cluster presence sweeps run");
        _meter.CreateObservableCounter("presenced_sweep_removed_total", () => Read(ref _sweepRemoved), description: "Expired cluster presence entries removed by sweeps");
        BackplaneLatency = _meter.CreateHistogram(
            "presenced_backplane_latency_seconds",
            "s",
            "Round trip of backplane calls",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
    }

    /// <summary>Seconds; tuned for Redis on a LAN (sub-millisecond) up to redis_timeout territory.</summary>
    public static IReadOnlyList<double> LatencyBuckets { get; } = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    /// <summary>Backplane round trips in seconds; the backplane records into it (optionally tagged with "op").</summary>
    public Histogram<double> BackplaneLatency { get; }

    public BackplaneCircuitState CircuitState => (BackplaneCircuitState)Volatile.Read(ref _circuitState);

    public Meter Meter => _meter;

    public long Deliveries => Read(ref _deliveries);

    public long Publishes => Read(ref _publishes);

    public void Accepted() => Interlocked.Increment(ref _accepted);

    public void FrameReceived() => Interlocked.Increment(ref _framesIn);

    public void BytesReceived(int count) => Interlocked.Add(ref _bytesIn, count);

    public void BytesSent(int count) => Interlocked.Add(ref _bytesOut, count);

    public void Published(int deliveries)
    {
        Interlocked.Increment(ref _publishes);
        Interlocked.Add(ref _deliveries, deliveries);
    }

    public void Delivered(int deliveries) => Interlocked.Add(ref _deliveries, deliveries);

    public void Dropped() => Interlocked.Increment(ref _dropped);

    /// <summary>A reply frame (not fan-out, which <see cref="Delivered"/> counts) was queued to a client.</summary>
    public void ReplySent() => Interlocked.Increment(ref _repliesSent);

    public void BackplaneCircuitChanged(BackplaneCircuitState state) => Volatile.Write(ref _circuitState, (int)state);

    public void BackplaneFailed() => Interlocked.Increment(ref _backplaneErrors);

    public void SweepCompleted(int removed)
    {
        Interlocked.Increment(ref _sweeps);
        Interlocked.Add(ref _sweepRemoved, removed);
    }

    public void ErrorSent(ErrorCode code) => Interlocked.Increment(ref _errors[(int)code]);

    public void ConnectionClosed(CloseReason reason) => Interlocked.Increment(ref _closes[(int)reason]);

    public long Closes(CloseReason reason) => Read(ref _closes[(int)reason]);

    public long Errors(ErrorCode code) => Read(ref _errors[(int)code]);

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveCloses()
    {
        foreach (CloseReason reason in CloseReasonValues)
        {
            yield return new Measurement<long>(Read(ref _closes[(int)reason]), new KeyValuePair<string, object?>("reason", ToSnakeCase(reason.ToString())));
        }
    }

    private IEnumerable<Measurement<long>> ObserveErrors()
    {
        foreach (ErrorCode code in ErrorCodeValues)
        {
            if (code == ErrorCode.None) continue;
            string kind = code is ErrorCode.Internal or ErrorCode.Degraded ? "server" : "client";
            yield return new Measurement<long>(Read(ref _errors[(int)code]),
                new KeyValuePair<string, object?>("code", ToSnakeCase(code.ToString())), new KeyValuePair<string, object?>("kind", kind));
        }
    }

    private IEnumerable<Measurement<long>> ObserveCircuit()
    {
        BackplaneCircuitState current = CircuitState;
        foreach (BackplaneCircuitState state in CircuitStates)
        {
            yield return new Measurement<long>(state == current ? 1 : 0, new KeyValuePair<string, object?>("state", ToSnakeCase(state.ToString())));
        }
    }

    private static long Read(ref long field) => Volatile.Read(ref field);

    internal static string ToSnakeCase(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0) builder.Append('_');
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }
}
