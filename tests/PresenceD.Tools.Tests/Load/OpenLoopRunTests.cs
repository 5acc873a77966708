using System.Globalization;
using System.Text.Json;
using HdrHistogram;
using PresenceD.Load;
using PresenceD.Load.Measurement;
using PresenceD.Tests.Shared;

namespace PresenceD.Tools.Tests.Load;

/// <summary>One real daemon for the open-loop, interval, HDR log and output-format runs (each run uses rooms of its own).</summary>
public sealed class LoadDaemonFixture : IAsyncLifetime
{
    internal DaemonProcess Daemon { get; private set; } = null!;

    public async Task InitializeAsync() => Daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync() => await Daemon.DisposeAsync();
}

/// <summary>Open-loop rate control, coordinated-omission correction, --interval, --hdr-out, the JSON schema and the plain table.</summary>
public sealed class OpenLoopRunTests(LoadDaemonFixture fixture) : IClassFixture<LoadDaemonFixture>
{
    private int _runs;

    private async Task<(int Code, string Output, string Error)> RunRawAsync(string[] args, bool json = true, bool outputIsTerminal = false,
        Func<LoadOptions, LoadOptions>? adjust = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string prefix = $"ol{Environment.ProcessId}-{Interlocked.Increment(ref _runs)}-{Guid.NewGuid():N}"[..24];
        string[] common = ["--server", fixture.Daemon.Address, "--no-progress", "--warmup", "0s", "--room-prefix", prefix];
        if (json) common = [.. common, "--json"];
        // Off xunit's synchronization context (two threads for every test's continuations), as the tool runs: its
        // receive loops would otherwise queue behind each other there and add latency the tool does not have.
        string[] argv = [.. args, .. common];
        int code = await Task.Run(() => LoadApp.RunAsync(argv, output, error, interactive: false, outputIsTerminal, adjust));
        return (code, output.ToString(), error.ToString());
    }

    private async Task<JsonElement> RunJsonAsync(string[] args, Func<LoadOptions, LoadOptions>? adjust = null)
    {
        var (code, output, error) = await RunRawAsync(args, adjust: adjust);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static double Us(JsonElement latency, string name) => latency.GetProperty(name).GetDouble();

    /// <summary>
    /// The pacer is made to sleep 300 ms half a second in. Messages due during the pause go out late, and their latency
    /// is counted from when they were due: without the correction (latency from the actual send) every message would
    /// take well under a millisecond on loopback and p99 would stay tiny. 1,000 messages/s for 1.5 s: 300 messages
    /// (20 %) are due inside the pause, delayed 0-300 ms, so p90 and p99 are at least 100 ms. Bounds from below only.
    /// </summary>
    [Fact]
    public async Task A_stalled_pacer_shows_in_latency_from_the_due_time()
    {
        var stall = new PacerStall(TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(300));

        JsonElement r = await RunJsonAsync(["rooms", "--connections", "20", "--room-size", "2", "--rate", "50", "--duration", "1.5s"],
            o => o with { PacerStall = stall });

        Assert.Equal(1500, r.GetProperty("sent").GetInt64());
        Assert.Equal(1500, r.GetProperty("delivered").GetInt64());
        JsonElement latency = r.GetProperty("latency_us");
        Assert.Equal("due", latency.GetProperty("from").GetString());
        Assert.True(Us(latency, "p90") >= 100_000, $"p90 {Us(latency, "p90")} µs: the stalled messages are not charged from their due time");
        Assert.True(Us(latency, "p99") >= 200_000, $"p99 {Us(latency, "p99")} µs");
        Assert.True(Us(latency, "max") >= 280_000, $"max {Us(latency, "max")} µs");
        JsonElement lag = r.GetProperty("pacer_lag_us");
        Assert.Equal(1500, lag.GetProperty("samples").GetInt64());
        Assert.True(Us(lag, "max") >= 280_000, $"pacer lag max {Us(lag, "max")} µs");
        Assert.True(Us(lag, "p99") >= 200_000, $"pacer lag p99 {Us(lag, "p99")} µs");
    }

    /// <summary>The same stall in the fanout scenario's open loop: every subscriber's copy of a late message is late.</summary>
    [Fact]
    public async Task Fanout_at_a_rate_is_open_loop_and_corrected_too()
    {
        var stall = new PacerStall(TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300));

        JsonElement r = await RunJsonAsync(["fanout", "--subscribers", "5", "--rate", "500", "--duration", "1s"], o => o with { PacerStall = stall });

        Assert.Equal("open", r.GetProperty("loop").GetString());
        Assert.Equal(500, r.GetProperty("target_rate").GetDouble());
        Assert.Equal(0, r.GetProperty("window").GetInt32());
        Assert.Equal(500, r.GetProperty("sent").GetInt64());
        Assert.Equal(2500, r.GetProperty("delivered").GetInt64());
        Assert.True(Us(r.GetProperty("latency_us"), "p99") >= 200_000, $"p99 {Us(r.GetProperty("latency_us"), "p99")} µs");
        Assert.True(Us(r.GetProperty("pacer_lag_us"), "max") >= 280_000);
    }

    /// <summary>
    /// Churn keeps one schedule per worker: a 300 ms pause before an operation delays it and the ones due behind it,
    /// and each is charged from its due time to its reply (a round trip alone is about a millisecond on loopback).
    /// </summary>
    [Fact]
    public async Task A_stalled_churn_worker_is_charged_from_the_due_time()
    {
        var stall = new PacerStall(TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300));

        JsonElement r = await RunJsonAsync(["churn", "--connections", "4", "--room-size", "2", "--rate", "20", "--duration", "1.5s"], o => o with { PacerStall = stall });

        Assert.Equal("open", r.GetProperty("loop").GetString());
        Assert.Equal(80, r.GetProperty("target_rate").GetDouble());
        Assert.True(Us(r.GetProperty("latency_us"), "max") >= 250_000, $"max {Us(r.GetProperty("latency_us"), "max")} µs");
        Assert.True(Us(r.GetProperty("latency_us"), "p90") >= 50_000, $"p90 {Us(r.GetProperty("latency_us"), "p90")} µs");
        Assert.True(Us(r.GetProperty("pacer_lag_us"), "max") >= 250_000);
    }

    [Fact]
    public async Task Windowed_fanout_stays_a_closed_loop_without_pacer_lag()
    {
        JsonElement r = await RunJsonAsync(["fanout", "--subscribers", "3", "--max-messages", "100", "--duration", "5s"]);

        Assert.Equal("closed", r.GetProperty("loop").GetString());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("target_rate").ValueKind);
        Assert.Equal(JsonValueKind.Null, r.GetProperty("pacer_lag_us").ValueKind);
        Assert.Equal("send", r.GetProperty("latency_us").GetProperty("from").GetString());
        Assert.Equal(300, r.GetProperty("delivered").GetInt64());
    }

    /// <summary>The documented --json fields (tools/README-tools.md), each with its type; rates are numbers.</summary>
    [Fact]
    public async Task The_json_result_has_the_documented_schema()
    {
        JsonElement r = await RunJsonAsync(["rooms", "--connections", "10", "--room-size", "5", "--rate", "20", "--duration", "1s", "--interval", "250ms"]);

        string[] strings = ["scenario", "server", "loop"];
        string[] numbers = ["target_rate", "connections", "rooms", "payload", "window", "setup_s", "seconds", "send_s", "sent", "delivered", "expected",
            "sent_per_s", "deliveries_per_s", "interval_s", "client_cpu_s"];
        string[] nullable = ["server_rss_mb", "server_cpu_s", "kb_per_conn", "alive", "connections_opened", "presence_diffs", "storms"];
        string[] percentiles = ["p50", "p90", "p95", "p99", "p999", "p9999", "max"];
        var expected = strings.Concat(numbers).Concat(nullable).Concat(["ok", "latency_us", "pacer_lag_us", "intervals", "errors"]).Order().ToList();
        Assert.Equal(expected, r.EnumerateObject().Select(p => p.Name).Order().ToList());
        foreach (string name in strings) Assert.Equal(JsonValueKind.String, r.GetProperty(name).ValueKind);
        foreach (string name in numbers) Assert.True(r.GetProperty(name).ValueKind == JsonValueKind.Number, name);
        Assert.Equal(JsonValueKind.True, r.GetProperty("ok").ValueKind);
        Assert.Equal(JsonValueKind.Object, r.GetProperty("errors").ValueKind);
        Assert.Equal(200, r.GetProperty("target_rate").GetDouble());
        Assert.True(r.GetProperty("sent_per_s").GetDouble() > 0);
        Assert.Equal(0.25, r.GetProperty("interval_s").GetDouble());
        foreach (string block in new[] { "latency_us", "pacer_lag_us" })
        {
            JsonElement latency = r.GetProperty(block);
            Assert.True(latency.GetProperty("samples").GetInt64() > 0, block);
            foreach (string p in percentiles) Assert.True(latency.GetProperty(p).GetDouble() > 0, $"{block}.{p}");
            for (int i = 1; i < percentiles.Length; i++)
                Assert.True(latency.GetProperty(percentiles[i]).GetDouble() >= latency.GetProperty(percentiles[i - 1]).GetDouble(), $"{block}: {percentiles[i]} < {percentiles[i - 1]}");
        }
        JsonElement row = r.GetProperty("intervals")[0];
        Assert.Equal(["delivered", "deliveries_per_s", "latency_us", "pacer_lag_us", "seconds", "sent", "sent_per_s", "t_s"], row.EnumerateObject().Select(p => p.Name).Order().ToList());
    }

    /// <summary>The rows cover the phase without gaps or double counting: their sums are the run's totals.</summary>
    [Fact]
    public async Task Interval_rows_add_up_to_the_run()
    {
        JsonElement r = await RunJsonAsync(["rooms", "--connections", "10", "--room-size", "5", "--rate", "40", "--duration", "1.2s", "--interval", "200ms"]);

        JsonElement[] rows = [.. r.GetProperty("intervals").EnumerateArray()];
        Assert.True(rows.Length >= 5, $"{rows.Length} rows");
        Assert.Equal(r.GetProperty("sent").GetInt64(), rows.Sum(x => x.GetProperty("sent").GetInt64()));
        Assert.Equal(r.GetProperty("delivered").GetInt64(), rows.Sum(x => x.GetProperty("delivered").GetInt64()));
        Assert.Equal(r.GetProperty("latency_us").GetProperty("samples").GetInt64(), rows.Sum(x => x.GetProperty("latency_us").GetProperty("samples").GetInt64()));
        for (int i = 1; i < rows.Length; i++)
            Assert.True(rows[i].GetProperty("t_s").GetDouble() > rows[i - 1].GetProperty("t_s").GetDouble());
        Assert.All(rows.Where(x => x.GetProperty("sent").GetInt64() > 0), x => Assert.True(x.GetProperty("sent_per_s").GetDouble() > 0));
    }

    /// <summary>The --hdr-out log read back with HdrHistogram's reader: its histograms hold exactly the run's samples.</summary>
    [Fact]
    public async Task The_hdr_log_reads_back_with_HistogramLogReader()
    {
        string path = Path.Combine(Path.GetTempPath(), $"presence-load-{Guid.NewGuid():N}.hdr");
        try
        {
            JsonElement r = await RunJsonAsync(["rooms", "--connections", "10", "--room-size", "5", "--rate", "40", "--duration", "1s", "--interval", "250ms", "--hdr-out", path]);

            List<HistogramBase> read;
            using (FileStream file = File.OpenRead(path)) read = new HistogramLogReader(file).ReadHistograms().ToList();
            var latency = read.Where(h => h.Tag is null).ToList();
            var lag = read.Where(h => h.Tag == "pacer_lag").ToList();
            Assert.Equal(r.GetProperty("intervals").GetArrayLength(), latency.Count);
            Assert.Equal(latency.Count, lag.Count);
            var merged = new LongHistogram(LatencyHistogram.LowestDiscernibleValue, LatencyHistogram.HighestTrackableValue, LatencyHistogram.SignificantDigits);
            foreach (HistogramBase h in latency) merged.Add(h);
            Assert.Equal(r.GetProperty("latency_us").GetProperty("samples").GetInt64(), merged.TotalCount);
            Assert.Equal(r.GetProperty("sent").GetInt64(), lag.Sum(h => h.TotalCount));
            Assert.Equal(r.GetProperty("latency_us").GetProperty("p99").GetDouble(), Math.Round(merged.GetValueAtPercentile(99) / 1000.0, 1));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Without_interval_the_hdr_log_holds_the_whole_phase_as_one_histogram()
    {
        string path = Path.Combine(Path.GetTempPath(), $"presence-load-{Guid.NewGuid():N}.hdr");
        try
        {
            JsonElement r = await RunJsonAsync(["fanout", "--subscribers", "3", "--max-messages", "50", "--duration", "5s", "--hdr-out", path]);

            List<HistogramBase> read;
            using (FileStream file = File.OpenRead(path)) read = new HistogramLogReader(file).ReadHistograms().ToList();
            HistogramBase whole = Assert.Single(read);
            Assert.Null(whole.Tag);
            Assert.Equal(150, whole.TotalCount);
            Assert.Equal(r.GetProperty("latency_us").GetProperty("max").GetDouble(), Math.Round(whole.GetMaxValue() / 1000.0, 1));
            Assert.Equal(0, r.GetProperty("intervals").GetArrayLength());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_bad_hdr_out_path_exits_1_before_the_run()
    {
        var (code, output, error) = await RunRawAsync(["rooms", "--connections", "4", "--room-size", "2", "--duration", "1s", "--hdr-out", "/nonexistent-dir/x.hdr"]);

        Assert.Equal(1, code);
        Assert.Contains("--hdr-out: cannot write /nonexistent-dir/x.hdr", error);
        Assert.Equal("", output);
    }

    /// <summary>stdout redirected to a file: a plain two-column table and plain interval rows, no ANSI escapes, no box drawing.</summary>
    [Fact]
    public async Task A_file_gets_a_plain_table_and_plain_interval_rows()
    {
        var (code, output, error) = await RunRawAsync(["rooms", "--connections", "4", "--room-size", "2", "--rate", "20", "--duration", "1s", "--interval", "250ms"], json: false);

        Assert.True(code == 0, error);
        Assert.DoesNotContain('\u001b', output);
        Assert.DoesNotContain(output, c => c is >= '\u2500' and <= '\u257f');
        string[] lines = output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("   t_s   sent/s", StringComparison.Ordinal));
        Assert.True(lines.Count(l => l.Length > 0 && char.IsDigit(l.TrimStart()[0])) >= 3, output);
        string achieved = Assert.Single(lines, l => l.StartsWith("achieved rate (messages/s)", StringComparison.Ordinal));
        Assert.True(double.Parse(achieved.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1], CultureInfo.InvariantCulture) > 0);
        Assert.Contains(lines, l => l.StartsWith("latency p99.99 (us)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_terminal_gets_the_boxed_table()
    {
        var (code, output, error) = await RunRawAsync(["rooms", "--connections", "4", "--room-size", "2", "--rate", "20", "--duration", "500ms"], json: false, outputIsTerminal: true);

        Assert.True(code == 0, error);
        Assert.Contains(output, c => c is >= '\u2500' and <= '\u257f');
        Assert.Contains("achieved rate", output);
    }
}
