using Microsoft.Extensions.Logging.Abstractions;
using PresenceD.Server.Backplane;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Dispatch;
using PresenceD.Server.Expiry;
using PresenceD.Server.History;
using PresenceD.Server.Rooms;
using System.Diagnostics.Metrics;
using PresenceD.Operations.Tests.Support;
using PresenceD.Server.Diagnostics;

namespace PresenceD.Operations.Tests.Diagnostics;

public sealed class PrometheusExporterTests
{
    [Fact]
    public void Counters_are_exported_with_total_suffix_help_type_and_escaped_labels()
    {
        using var meter = new Meter("test-" + Guid.NewGuid());
        Counter<long> before = meter.CreateCounter<long>("jobs_done", description: "Jobs finished\nacross queues");
        using var exporter = new PrometheusExporter(meter);
        Counter<long> after = meter.CreateCounter<long>("retries_total");
        before.Add(3);
        before.Add(4);
        before.Add(2, new KeyValuePair<string, object?>("queue", "a\"b\\c"));
        after.Add(1);

        string text = exporter.Scrape();

        Assert.Contains("# HELP jobs_done_total Jobs finished\\nacross queues\n", text);
        Assert.Contains("# TYPE jobs_done_total counter\n", text);
        Dictionary<string, double> samples = PrometheusText.Parse(text);
        Assert.Equal(7, PrometheusText.Value(samples, "jobs_done_total"));
        Assert.Equal(2, PrometheusText.Value(samples, "jobs_done_total{queue=\"a\\\"b\\\\c\"}"));
        Assert.Equal(1, PrometheusText.Value(samples, "retries_total"));
    }

    [Fact]
    public void Histograms_export_cumulative_buckets_from_the_advice_with_sum_and_count()
    {
        using var meter = new Meter("test-" + Guid.NewGuid());
        Histogram<double> latency = meter.CreateHistogram("latency_seconds", "s", "Latency", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1, 1] });
        using var exporter = new PrometheusExporter(meter);
        foreach (double seconds in new[] { 0.005, 0.01, 0.05, 0.5, 3 }) latency.Record(seconds);

        string text = exporter.Scrape();

        Assert.Contains("# TYPE latency_seconds histogram\n", text);
        Dictionary<string, double> samples = PrometheusText.Parse(text);
        Assert.Equal(2, PrometheusText.Value(samples, "latency_seconds_bucket{le=\"0.01\"}"));
        Assert.Equal(3, PrometheusText.Value(samples, "latency_seconds_bucket{le=\"0.1\"}"));
        Assert.Equal(4, PrometheusText.Value(samples, "latency_seconds_bucket{le=\"1\"}"));
        Assert.Equal(5, PrometheusText.Value(samples, "latency_seconds_bucket{le=\"+Inf\"}"));
        Assert.Equal(5, PrometheusText.Value(samples, "latency_seconds_count"));
        Assert.Equal(3.565, PrometheusText.Value(samples, "latency_seconds_sum"), 9);
    }

    [Fact]
    public void A_histogram_shows_zeroed_buckets_before_its_first_record()
    {
        using var meter = new Meter("test-" + Guid.NewGuid());
        meter.CreateHistogram<double>("wait_seconds");
        using var exporter = new PrometheusExporter(meter);

        Dictionary<string, double> samples = PrometheusText.Parse(exporter.Scrape());

        Assert.Equal(0, PrometheusText.Value(samples, "wait_seconds_bucket{le=\"0.005\"}"));
        Assert.Equal(0, PrometheusText.Value(samples, "wait_seconds_bucket{le=\"+Inf\"}"));
        Assert.Equal(0, PrometheusText.Value(samples, "wait_seconds_count"));
    }

    [Fact]
    public void Observable_gauges_are_read_at_each_scrape_and_label_sets_that_vanish_vanish()
    {
        using var meter = new Meter("test-" + Guid.NewGuid());
        long level = 5;
        bool withSecond = true;
        meter.CreateObservableGauge("queue_depth", () => Observe(level, withSecond));
        using var exporter = new PrometheusExporter(meter);

        Dictionary<string, double> first = PrometheusText.Parse(exporter.Scrape());
        level = 9;
        withSecond = false;
        Dictionary<string, double> second = PrometheusText.Parse(exporter.Scrape());

        Assert.Equal(5, PrometheusText.Value(first, "queue_depth{q=\"one\"}"));
        Assert.Equal(1, PrometheusText.Value(first, "queue_depth{q=\"two\"}"));
        Assert.Equal(9, PrometheusText.Value(second, "queue_depth{q=\"one\"}"));
        Assert.DoesNotContain("queue_depth{q=\"two\"}", second.Keys);
    }

    [Fact]
    public void Only_the_given_meter_is_exported()
    {
        using var mine = new Meter("PresenceD");
        using var other = new Meter("PresenceD");
        mine.CreateObservableGauge("mine_gauge", () => 1L);
        other.CreateObservableGauge("other_gauge", () => 2L);
        using var exporter = new PrometheusExporter(mine);

        string text = exporter.Scrape();

        Assert.Contains("mine_gauge 1\n", text);
        Assert.DoesNotContain("other_gauge", text);
    }

    [Fact]
    public void Server_metrics_name_every_required_family()
    {
        using var metrics = new ServerMetrics();
        var options = new LiveOptions(new ServerOptions());
        using var wheel = new TimerWheel(SystemClock.Instance, TimeSpan.FromMilliseconds(10));
        var backplane = new MemoryBackplane(HistoryStore.FromOptions(options.Current, SystemClock.Instance), SystemClock.Instance);
        var health = new BackplaneHealth(clustered: true, metrics.BackplaneLatency);
        var rooms = new RoomHub(options, SystemClock.Instance, new HealthOnly(backplane, health));
        using var buffers = new PresenceD.Server.Buffers.BufferPools(options.Current.BufferPoolMax, TimeSpan.Zero, wheel);
        metrics.Observe(new ConnectionHost(options, SystemClock.Instance, wheel, buffers, NullLogger.Instance), new DispatchCounters(), rooms, wheel);
        using var exporter = new PrometheusExporter(metrics.Meter);
        health.RecordLatency(TimeSpan.FromMilliseconds(2));
        health.CircuitState = BackplaneCircuitState.Open;
        health.CountSweeps(rooms: 2, removed: 3);

        Dictionary<string, double> samples = PrometheusText.Parse(exporter.Scrape());

        foreach (string family in new[]
        {
            "presenced_connections", "presenced_rooms", "presenced_members", "presenced_connections_accepted_total",
            "presenced_frames_received_total", "presenced_frames_sent_total", "presenced_received_bytes_total", "presenced_sent_bytes_total",
            "presenced_publishes_total", "presenced_deliveries_total", "presenced_dropped_total", "presenced_heartbeat_timeouts_total",
            "presenced_slow_consumers_total", "presenced_backplane_errors_total", "presenced_backplane_subscription_gaps_total", "presenced_sweeps_total",
            "presenced_timer_callback_failures_total", "presenced_session_end_failures_total",
        })
        {
            Assert.Contains(family, samples.Keys);
        }
        Assert.Equal(0, PrometheusText.Value(samples, "presenced_connection_closes_total{reason=\"heartbeat_timeout\"}"));
        Assert.Equal(0, PrometheusText.Value(samples, "presenced_errors_total{code=\"not_joined\",kind=\"client\"}"));
        Assert.Equal(0, PrometheusText.Value(samples, "presenced_errors_total{code=\"internal\",kind=\"server\"}"));
        Assert.Equal(1, PrometheusText.Value(samples, "presenced_backplane_circuit_state{state=\"open\"}"));
        Assert.Equal(0, PrometheusText.Value(samples, "presenced_backplane_circuit_state{state=\"closed\"}"));
        Assert.Equal(1, PrometheusText.Value(samples, "presenced_backplane_latency_seconds_bucket{le=\"0.0025\"}"));
        Assert.Equal(0, PrometheusText.Value(samples, "presenced_backplane_latency_seconds_bucket{le=\"0.001\"}"));
        Assert.Equal(3, PrometheusText.Value(samples, "presenced_sweep_removed_total"));
        Assert.Equal(2, PrometheusText.Value(samples, "presenced_sweeps_total"));
    }

    /// <summary>The memory backplane with a clustered health, so the backplane families have something to show.</summary>
    private sealed class HealthOnly(IBackplane inner, BackplaneHealth health) : IBackplane
    {
        public BackplaneHealth Health => health;

        public string Description => inner.Description;

        public void Start() => inner.Start();

        public IRoomBroker CreateBroker(Room room) => inner.CreateBroker(room);

        public void SessionStarted(string user, string connId) => inner.SessionStarted(user, connId);

        public void SessionEnded(string user, string connId) => inner.SessionEnded(user, connId);

        public ValueTask<IReadOnlyList<RemoteMember>?> QueryRoomAsync(string room) => inner.QueryRoomAsync(room);

        public ValueTask<IReadOnlyList<string>?> QueryOnlineAsync(IReadOnlyList<string> users) => inner.QueryOnlineAsync(users);

        public ISessionLink? SessionLink => inner.SessionLink;

        public void SessionMoved(string connId) => inner.SessionMoved(connId);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private static IEnumerable<Measurement<long>> Observe(long level, bool withSecond)
    {
        yield return new Measurement<long>(level, new KeyValuePair<string, object?>("q", "one"));
        if (withSecond) yield return new Measurement<long>(1, new KeyValuePair<string, object?>("q", "two"));
    }
}
