using System.Collections.Concurrent;
using System.Diagnostics;
using PresenceD.Operations.Tests.Support;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Soak;

/// <summary>
/// The churn soak of issue 17 against the real `presenced` binary: one observer stays in each room the whole
/// run and keeps its own view of the room from JOINED and PRESENCE_DIFF; churners connect, join, update,
/// publish, move to another room, leave and disconnect (BYE, FIN or RST) over and over. Every second the
/// daemon's VmRSS and open connections go into <see cref="RssSeries"/>. At the end the churners stop, and every
/// observer's view must be exactly the server's PRESENCE_STATE (the observer alone), then every room empty.
/// </summary>
internal sealed class ChurnSoak(ChurnSoak.Shape shape, TextWriter progress)
{
    /// <summary>How big and how long; <see cref="ReferenceAt"/> is the sample the end of the churn is compared with.</summary>
    internal sealed record Shape(int Churners, int Rooms, TimeSpan Duration, TimeSpan ReferenceAt);

    /// <summary>What one run measured.</summary>
    internal sealed record Outcome(RssSeries Series, long Cycles, long Publishes, IReadOnlyList<string> Failures, IReadOnlyList<string> ViewErrors);

    private const long MiB = 1024 * 1024;

    // A churner pauses this long (at random in the range) between two cycles: 500 churners then open about
    // 250 connections a second, which a 2-core machine shared with other work sustains, and which the
    // loopback's ephemeral ports sustain with the sockets that wait in TIME_WAIT.
    private static readonly (int Min, int Max) PauseMs = (1000, 3000);

    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentQueue<string> _failures = new();
    private long _cycles;
    private long _publishes;

    public async Task<Outcome> RunAsync()
    {
        int port = Ports.Free();
        int adminPort = Ports.Free();
        // Pools trimmed every second, so RSS after the clients leave is read within seconds (the default is slower).
        // hello_timeout 30s: on a 2-core machine loaded by other builds (load average 50) the 5 s default closed
        // some churners between their connect and their HELLO, which is the machine, not the daemon.
        await using DaemonProcess daemon = DaemonProcess.Start(
            DaemonSetup.WithConfig(port, $"admin_port {adminPort}", "hello_timeout 30s", "heartbeat_interval 10s", "heartbeat_timeout 30s") with
            {
                Environment = new Dictionary<string, string> { ["PRESENCED_BUFFER_POOL_TRIM_INTERVAL"] = "1s" },
                Name = "presenced-soak",
            });
        await daemon.WaitUntilListeningAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}") };
        var series = new RssSeries();
        var clock = Stopwatch.StartNew();
        string phase = "start";
        async Task SampleAsync()
        {
            double connections = Value(await ScrapeAsync(http), "presenced_connections");
            series.Add(clock.Elapsed.TotalSeconds, Rss(daemon.Pid), (long)connections, phase);
        }

        string[] rooms = Enumerable.Range(0, shape.Rooms).Select(r => "soak-" + r).ToArray();
        var observers = new List<Observer>();
        foreach (string room in rooms) observers.Add(await Observer.JoinAsync(daemon.EndPoint, room));
        await WaitForMetricAsync(http, "presenced_members", v => v == shape.Rooms);

        // One short round of every churner step first, so compiled code and first-use allocations are in the baseline.
        phase = "warm-up";
        using (var warmup = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
        {
            await Task.WhenAll(Enumerable.Range(0, Math.Min(50, shape.Churners)).Select(k => ChurnAsync(daemon, rooms, k, warmup.Token)));
        }
        await WaitForMetricAsync(http, "presenced_connections", v => v == shape.Rooms);
        await SampleAsync();
        series.MarkBaseline();
        progress.WriteLine($"baseline VmRSS {series.Baseline.RssBytes / MiB} MiB; churning {shape.Churners} clients in {shape.Rooms} rooms for {shape.Duration}");

        phase = "churn";
        using var churnEnd = new CancellationTokenSource(shape.Duration);
        Task churn = Task.WhenAll(Enumerable.Range(0, shape.Churners).Select(k => ChurnAsync(daemon, rooms, k, churnEnd.Token)));
        using (var ticks = new PeriodicTimer(TimeSpan.FromSeconds(1)))
        {
            int second = 0;
            while (!churn.IsCompleted && await ticks.WaitForNextTickAsync())
            {
                await SampleAsync();
                if (++second % 10 == 0)
                {
                    RssSeries.Sample last = series.Last;
                    progress.WriteLine($"{last.Seconds,6:0} s  VmRSS {last.RssBytes / MiB,4} MiB  connections {last.Connections,4}  cycles {Interlocked.Read(ref _cycles)}  publishes {Interlocked.Read(ref _publishes)}  failures {_failures.Count}");
                }
            }
        }
        await churn;
        series.MarkChurnEnd(shape.ReferenceAt);

        // The churners are gone: every observer must hold exactly what the server holds.
        phase = "observers";
        await WaitForMetricAsync(http, "presenced_connections", v => v == shape.Rooms);
        await SampleAsync();
        var viewErrors = new List<string>();
        foreach (Observer observer in observers) viewErrors.AddRange(await observer.CheckViewAsync());
        foreach (Observer observer in observers) await observer.ByeAsync();

        phase = "gone";
        await WaitForMetricAsync(http, "presenced_connections", v => v == 0);
        await using (TestClient checker = await TestClient.HelloAsync(daemon.EndPoint, "soak-checker"))
        {
            uint rid = 10;
            foreach (string room in rooms)
            {
                uint asked = ++rid;
                await checker.SendAsync(f => ClientFrames.Count(f, asked, room));
                var count = (CountStateMessage)(await checker.ReceiveUntilAsync(m => m is CountStateMessage c && c.Rid == asked, "COUNT_STATE of " + room, ReplyTimeout))[^1];
                if (count.Connections != 0) viewErrors.Add($"{room}: {count.Connections} connections left after everyone went");
            }
        }
        await WaitForMetricAsync(http, "presenced_connections", v => v == 0);
        // RSS settles as the pools trim: sampled until it is back near the baseline or a minute has passed.
        var settle = Stopwatch.StartNew();
        using (var ticks = new PeriodicTimer(TimeSpan.FromSeconds(1)))
        {
            do await SampleAsync();
            while (!series.BackNearBaseline && settle.Elapsed < TimeSpan.FromMinutes(1) && await ticks.WaitForNextTickAsync());
        }
        return new Outcome(series, _cycles, _publishes, _failures.ToArray(), viewErrors);
    }

    /// <summary>One churner: cycles until <paramref name="stop"/>; a failure (any step of a well-behaved client) is kept, and it goes on.</summary>
    private async Task ChurnAsync(DaemonProcess daemon, string[] rooms, int index, CancellationToken stop)
    {
        var random = new Random(index);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await CycleAsync(daemon, rooms, index, random);
                Interlocked.Increment(ref _cycles);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Kept and reported: the run fails on it.
                if (_failures.Count < 100) _failures.Enqueue($"churner {index}: {e.GetType().Name}: {e.Message}");
            }
            try
            {
                // Pacing the load, not waiting for an event (see PauseMs).
                await Task.Delay(random.Next(PauseMs.Min, PauseMs.Max), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Connect, join, update, publish, move to a second room, publish there, leave the first, then go one of four ways.</summary>
    private async Task CycleAsync(DaemonProcess daemon, string[] rooms, int index, Random random)
    {
        TestClient client = await TestClient.HelloAsync(daemon.EndPoint, "churner-" + (index % (shape.Churners / 2 + 1)));
        try
        {
            string first = rooms[random.Next(rooms.Length)];
            string second = rooms[random.Next(rooms.Length)];
            if (second == first) second = rooms[(Array.IndexOf(rooms, first) + 1) % rooms.Length];
            byte[] meta = [(byte)index, (byte)random.Next(256)];
            byte[] payload = new byte[random.Next(8, 512)];
            random.NextBytes(payload);

            await client.SendAsync(f => ClientFrames.Join(f, 2, first, meta, hasMeta: true));
            await ReplyAsync<JoinedMessage>(client, 2, "JOINED " + first);
            meta[1]++;
            await client.SendAsync(f => ClientFrames.Update(f, 3, first, meta, hasMeta: true));
            await ReplyAsync<OkMessage>(client, 3, "OK to UPDATE");
            await client.SendAsync(f => ClientFrames.Publish(f, 4, first, payload));
            await ReplyAsync<OkMessage>(client, 4, "OK to PUBLISH");
            await client.SendAsync(f => ClientFrames.Join(f, 5, second));
            await ReplyAsync<JoinedMessage>(client, 5, "JOINED " + second);
            await client.SendAsync(f => ClientFrames.Publish(f, 0, second, payload));
            await client.SendAsync(f => ClientFrames.Leave(f, 6, first));
            await ReplyAsync<OkMessage>(client, 6, "OK to LEAVE");
            Interlocked.Add(ref _publishes, 2);
            switch (random.Next(4))
            {
                case 0:
                    await client.SendAsync(f => ClientFrames.Bye(f));
                    await client.ReadUntilClosedAsync(ReplyTimeout);
                    break;
                case 1:
                    client.Abort();
                    break;
                case 2:
                    await client.SendAsync(f => ClientFrames.Leave(f, 7, second));
                    await ReplyAsync<OkMessage>(client, 7, "OK to the last LEAVE");
                    break;
                default:
                    break; // FIN with the room still joined
            }
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    private static async Task ReplyAsync<T>(TestClient client, uint rid, string awaited) where T : ServerMessage
    {
        ServerMessage last = (await client.ReceiveUntilAsync(m => m is ErrorMessage || Rid(m) == rid, awaited, ReplyTimeout))[^1];
        if (last is not T) throw new InvalidOperationException($"waiting for {awaited}, got {TestClient.Describe(last)}");
    }

    private static uint? Rid(ServerMessage message) => message switch
    {
        OkMessage ok => ok.Rid,
        JoinedMessage joined => joined.Rid,
        _ => null,
    };

    /// <summary>Resident set of a process, from /proc/&lt;pid&gt;/status.</summary>
    internal static long Rss(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"no VmRSS for {pid}");
    }

    private static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http) => PrometheusText.Parse(await http.GetStringAsync("/metrics"));

    private static double Value(Dictionary<string, double> samples, string key) => PrometheusText.Value(samples, key);

    private static Task WaitForMetricAsync(HttpClient http, string sample, Func<double, bool> done) =>
        Eventually.TrueAsync(async () => done(Value(await ScrapeAsync(http), sample)), sample, TimeSpan.FromSeconds(60));
}
