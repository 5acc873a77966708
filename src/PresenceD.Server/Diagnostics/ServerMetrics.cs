using System.Diagnostics.Metrics;
using PresenceD.Protocol;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Dispatch;
using PresenceD.Server.Expiry;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The daemon's metrics: every layer keeps its own counters (plain fields bumped with Interlocked, no allocation,
/// no tags on the hot path) and this class exports them as System.Diagnostics.Metrics observable instruments,
/// named as Prometheus expects once exported (presenced_..._total). Only the backplane latency histogram is
/// recorded into directly, by the backplane.
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "PresenceD";

    private static readonly CloseReason[] CloseReasonValues = Enum.GetValues<CloseReason>();
    private static readonly ErrorCode[] ErrorCodeValues = Enum.GetValues<ErrorCode>();
    private static readonly BackplaneCircuitState[] CircuitStates = Enum.GetValues<BackplaneCircuitState>();

    private readonly Meter _meter = new(MeterName);

    public ServerMetrics()
    {
        BackplaneLatency = _meter.CreateHistogram(
            "presenced_backplane_latency_seconds",
            "s",
            "Round trip of backplane calls",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
    }

    /// <summary>Seconds; tuned for Redis on a LAN (sub-millisecond) up to redis_timeout territory.</summary>
    public static IReadOnlyList<double> LatencyBuckets { get; } = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    /// <summary>Backplane round trips in seconds; the backplane records into it.</summary>
    public Histogram<double> BackplaneLatency { get; }

    public Meter Meter => _meter;

    /// <summary>Registers the resumable-session instruments (the gauges walk the suspended sessions at scrape time).</summary>
    public void ObserveResumes(ResumeCounters counters, Func<long> heldBytes, Func<long> suspendedNow)
    {
        _meter.CreateObservableCounter("presenced_sessions_suspended_total", () => counters.Suspended, description: "Resumable sessions suspended: their connection ended without BYE");
        _meter.CreateObservableCounter("presenced_sessions_resumed_total", () => counters.Resumed, description: "Suspended sessions a HELLO with their resume token took over");
        _meter.CreateObservableCounter("presenced_sessions_expired_total", () => counters.Expired, description: "Suspended sessions ended the normal way (resume_window passed, resume_buffer overflowed, drain)");
        _meter.CreateObservableCounter("presenced_sessions_overflowed_total", () => counters.Overflowed, description: "Suspended sessions ended because their held frames passed resume_buffer");
        _meter.CreateObservableCounter("presenced_sessions_handed_over_total", () => counters.HandedOver, description: "Sessions of this node that a resume on another node took over (the new node counts them resumed)");
        _meter.CreateObservableCounter("presenced_session_handovers_failed_total", () => counters.HandOversFailed, description: "Cross-node resumes that did not finish within resume_handover_timeout, counted by each node that ended its part the normal way");
        _meter.CreateObservableCounter("presenced_sessions_refused_total", () => counters.Refused, description: "Resumable sessions not suspended because resume_max_sessions were: ended at once (wills, then leaves)");
        _meter.CreateObservableGauge("presenced_sessions_suspended", suspendedNow, description: "Sessions suspended now");
        _meter.CreateObservableGauge("presenced_held_bytes", heldBytes, "By", "Room frame bytes held for suspended sessions");
    }

    /// <summary>Registers the instruments that read each layer's counters.</summary>
    public void Observe(ConnectionHost connections, DispatchCounters dispatch, RoomHub rooms, TimerWheel wheel)
    {
        ConnectionCounters c = connections.Counters;
        BackplaneHealth backplane = rooms.Backplane.Health;
        _meter.CreateObservableGauge("presenced_connections", () => (long)connections.Registry.Count, description: "Open client connections");
        _meter.CreateObservableGauge("presenced_rooms", () => (long)rooms.Count, description: "Rooms with local members");
        _meter.CreateObservableGauge("presenced_members", () => rooms.Rooms.Sum(r => (long)r.Count), description: "Local room memberships");
        _meter.CreateObservableCounter("presenced_connections_accepted_total", () => c.Accepted, description: "Connections accepted");
        _meter.CreateObservableCounter("presenced_frames_received_total", () => c.FramesReceived, description: "Client frames decoded");
        _meter.CreateObservableCounter("presenced_received_bytes_total", () => c.BytesReceived, "By", "Bytes read from client sockets");
        _meter.CreateObservableCounter("presenced_sent_bytes_total", () => c.BytesSent, "By", "Bytes written to client sockets");
        _meter.CreateObservableCounter("presenced_publishes_total", () => dispatch.Publishes, description: "PUBLISH requests that took effect");
        _meter.CreateObservableCounter("presenced_deliveries_total", () => rooms.Counters.Deliveries, description: "Frames queued to local members by fan-out");
        _meter.CreateObservableCounter("presenced_dropped_total", () => dispatch.Dropped, description: "Messages dropped (not joined with rid 0, rate limited, backplane down)");
        _meter.CreateObservableCounter("presenced_token_refreshes_total", () => ObserveRefreshes(dispatch), description: "REFRESH requests by result (ok: the session runs on the new token; refused: it kept the old one)");
        _meter.CreateObservableCounter("presenced_connection_closes_total", () => ObserveCloses(c), description: "Connection closes by reason");
        _meter.CreateObservableCounter("presenced_errors_total", () => ObserveErrors(dispatch, c), description: "ERROR replies by code (kind client: the request was refused; kind server: a server fault)");
        _meter.CreateObservableCounter("presenced_frames_sent_total", () => c.RepliesSent + rooms.Counters.Deliveries, description: "Frames queued to clients: replies and fan-out deliveries");
        _meter.CreateObservableCounter("presenced_heartbeat_timeouts_total", () => c.Closes(CloseReason.HeartbeatTimeout), description: "Connections closed for silence past heartbeat_timeout");
        _meter.CreateObservableCounter("presenced_slow_consumers_total", () => c.Closes(CloseReason.SlowConsumer), description: "Connections closed for queuing more than send_queue_limit");
        _meter.CreateObservableCounter("presenced_session_end_failures_total", () => c.HandlerFailures, description: "Session ends that threw (a bug; each is logged)");
        _meter.CreateObservableGauge("presenced_io_engine", () => ObserveIoEngine(connections.Scheduler.Engine), description: "The send engine in use: 1 for io_uring or epoll, 0 for the other");
        _meter.CreateObservableCounter("presenced_send_ring_failures_total", () => connections.Scheduler.RingFailures, description: "io_uring send rings that failed (each logged; that shard sends with epoll from then on)");
        _meter.CreateObservableCounter("presenced_timer_callback_failures_total", () => wheel.CallbackFailures, description: "Timer wheel callbacks that threw (a bug; each is logged, the wheel goes on)");
        _meter.CreateObservableGauge("presenced_backplane_circuit_state", () => ObserveCircuit(backplane), description: "Backplane circuit breaker: 1 for the current state, 0 for the others");
        _meter.CreateObservableCounter("presenced_backplane_errors_total", () => backplane.Failures, description: "Backplane calls that failed or timed out");
        _meter.CreateObservableCounter("presenced_backplane_subscription_gaps_total", () => backplane.SubscriptionGaps, description: "Room channels a Redis server did not hold for this node although it should (each logged and re-subscribed)");
        _meter.CreateObservableCounter("presenced_sweeps_total", () => backplane.Sweeps, description: "Cluster presence sweeps run (one per room per sweep_interval)");
        _meter.CreateObservableCounter("presenced_sweep_removed_total", () => backplane.SweepRemoved, description: "Expired cluster presence entries removed by sweeps");
    }

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<long>> ObserveCloses(ConnectionCounters counters)
    {
        foreach (CloseReason reason in CloseReasonValues)
        {
            yield return new Measurement<long>(counters.Closes(reason), new KeyValuePair<string, object?>("reason", ToSnakeCase(reason.ToString())));
        }
    }

    private static IEnumerable<Measurement<long>> ObserveRefreshes(DispatchCounters counters)
    {
        yield return new Measurement<long>(counters.Refreshes, new KeyValuePair<string, object?>("result", "ok"));
        yield return new Measurement<long>(counters.RefreshesRefused, new KeyValuePair<string, object?>("result", "refused"));
    }

    private static IEnumerable<Measurement<long>> ObserveErrors(DispatchCounters counters, ConnectionCounters connections)
    {
        foreach (ErrorCode code in ErrorCodeValues)
        {
            if (code == ErrorCode.None) continue;
            string kind = code is ErrorCode.Internal or ErrorCode.Degraded ? "server" : "client";
            // A malformed frame never reaches the dispatcher: its ERROR(PROTOCOL) is counted by the connection.
            long sent = counters.Errors(code) + (code == ErrorCode.Protocol ? connections.ProtocolErrorsSent : 0);
            yield return new Measurement<long>(sent,
                new KeyValuePair<string, object?>("code", ToSnakeCase(code.ToString())), new KeyValuePair<string, object?>("kind", kind));
        }
    }

    private static Measurement<long>[] ObserveIoEngine(IoEngine engine) =>
    [
        new(engine == IoEngine.IoUring ? 1 : 0, new KeyValuePair<string, object?>("engine", "io_uring")),
        new(engine == IoEngine.Epoll ? 1 : 0, new KeyValuePair<string, object?>("engine", "epoll")),
    ];

    private static IEnumerable<Measurement<long>> ObserveCircuit(BackplaneHealth health)
    {
        BackplaneCircuitState current = health.CircuitState;
        foreach (BackplaneCircuitState state in CircuitStates)
        {
            yield return new Measurement<long>(state == current ? 1 : 0, new KeyValuePair<string, object?>("state", ToSnakeCase(state.ToString())));
        }
    }

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
