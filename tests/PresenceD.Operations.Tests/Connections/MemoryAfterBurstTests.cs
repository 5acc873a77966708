using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using PresenceD.Operations.Tests.Support;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;
using Xunit.Abstractions;

namespace PresenceD.Operations.Tests.Connections;

/// <summary>
/// The real daemon's resident memory (/proc/&lt;pid&gt;/status VmRSS) through a burst: slow readers whose
/// outbound queues fill with a flood of large messages, and clients that park half-sent large frames in
/// the receive pipes. Once they are gone the buffer pools must give the memory back.
/// </summary>
public sealed class MemoryAfterBurstTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;
    private const int Readers = 32;
    private const int Holders = 32;
    private const int Messages = 128;
    private const int PayloadSize = 60 * 1024;
    private const int HeldFrame = 1024 * 1024;

    // Measured on 2 busy cores: baseline 54 MiB, peak 380..500 MiB. With unbounded, untrimmed pools RSS stayed
    // at 498 MiB 30 s after the clients left; bounded and trimmed it is back to 51..74 MiB within 1.2 s. The
    // margin leaves room on both sides.
    private const long Margin = 48 * MiB;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Rss_returns_near_its_baseline_once_a_burst_of_slow_readers_and_large_frames_is_gone()
    {
        int port = Ports.Free();
        int adminPort = Ports.Free();
        // The trim interval through the environment: a build without the key ignores it, so this test also runs
        // (and fails) against the pools it replaced.
        await using DaemonProcess daemon = DaemonProcess.Start(
            DaemonSetup.WithConfig(port, $"admin_port {adminPort}", "send_queue_limit 8mb", "max_frame 1mb", "heartbeat_interval 20s", "heartbeat_timeout 60s") with
            {
                Environment = new Dictionary<string, string> { ["PRESENCED_BUFFER_POOL_TRIM_INTERVAL"] = "500ms" },
            });
        await daemon.WaitUntilListeningAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}") };

        // A small burst first, so the code paths are compiled and the first-use allocations are in the baseline.
        await using (Burst warmup = await Burst.StartAsync(port, readers: 2, holders: 2, "warmup"))
        {
            await WaitForMetricAsync(http, "presenced_members", v => v == 3);
            await warmup.FloodAsync(messages: 4);
        }
        await WaitForMetricAsync(http, "presenced_connections", v => v == 0);
        long baseline = Rss(daemon.Pid);

        long peak;
        await using (Burst burst = await Burst.StartAsync(port, Readers, Holders, "flood"))
        {
            await WaitForMetricAsync(http, "presenced_members", v => v == Readers + 1);
            await burst.FloodAsync(Messages);
            await WaitForMetricAsync(http, "presenced_send_queue_bytes", v => v > Readers * 2 * MiB);
            peak = Rss(daemon.Pid);
        }
        await WaitForMetricAsync(http, "presenced_connections", v => v == 0);
        long closed = Rss(daemon.Pid);

        var clock = Stopwatch.StartNew();
        long after = closed;
        while (after > baseline + Margin && clock.Elapsed < Wait)
        {
            await Task.Delay(100);
            after = Rss(daemon.Pid);
        }

        string figures = $"VmRSS baseline {baseline / MiB} MiB, peak {peak / MiB} MiB, clients gone {closed / MiB} MiB, "
            + $"after {clock.Elapsed.TotalSeconds:0.0} s {after / MiB} MiB (margin {Margin / MiB} MiB)";
        output.WriteLine(figures);
        Assert.True(peak > baseline + 4 * Margin, "the burst did not raise RSS enough to test anything: " + figures);
        Assert.True(after <= baseline + Margin, "RSS did not come back near its baseline: " + figures);

        Dictionary<string, double> pools = await WaitForMetricsAsync(http, "both pools empty",
            s => Value(s, "presenced_buffer_pool_bytes{pool=\"send\"}") == 0 && Value(s, "presenced_buffer_pool_bytes{pool=\"receive\"}") == 0);
        output.WriteLine($"VmRSS with both pools empty: {Rss(daemon.Pid) / MiB} MiB");
        output.WriteLine(string.Join("\n", pools.Where(s => s.Key.StartsWith("presenced_buffer_pool", StringComparison.Ordinal)).Select(s => $"{s.Key} {s.Value}")));
        Assert.True(Value(pools, "presenced_buffer_pool_trims_total") > 0);
        Assert.True(Value(pools, "presenced_buffer_pool_released_bytes_total{reason=\"idle\"}") > 0);
        Assert.True(Value(pools, "presenced_buffer_pool_released_bytes_total{reason=\"full\"}") > 0, "the burst should have passed buffer_pool_max");
        Assert.True(Value(pools, "presenced_buffer_pool_collections_total") > 0);
    }

    /// <summary>Resident set of a process, from /proc/&lt;pid&gt;/status.</summary>
    private static long Rss(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            string kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"no VmRSS for {pid}");
    }

    private static Task WaitForMetricAsync(HttpClient http, string sample, Func<double, bool> done) =>
        WaitForMetricsAsync(http, sample, s => done(Value(s, sample)));

    /// <summary>Scrapes /metrics until <paramref name="done"/> holds; fails naming <paramref name="what"/> and the last scrape.</summary>
    private static async Task<Dictionary<string, double>> WaitForMetricsAsync(HttpClient http, string what, Func<Dictionary<string, double>, bool> done)
    {
        var clock = Stopwatch.StartNew();
        Dictionary<string, double> samples = [];
        while (clock.Elapsed < Wait)
        {
            samples = PrometheusText.Parse(await http.GetStringAsync("/metrics"));
            if (done(samples)) return samples;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"waited {Wait.TotalSeconds} s for {what}; last scrape: "
            + string.Join(", ", samples.Where(s => s.Key.StartsWith("presenced_", StringComparison.Ordinal)).Select(s => $"{s.Key} {s.Value}")));
    }

    private static double Value(Dictionary<string, double> samples, string key) => PrometheusText.Value(samples, key);

    /// <summary>
    /// Readers that joined one room and never read (a small receive buffer, so the bytes stay queued in the
    /// daemon), holders that sent most of a large frame and stopped, and one publisher.
    /// </summary>
    private sealed class Burst : IAsyncDisposable
    {
        private readonly List<Socket> _sockets = [];
        private readonly string _room;
        private TestClient? _publisher;

        private Burst(string room) => _room = room;

        public static async Task<Burst> StartAsync(int port, int readers, int holders, string room)
        {
            var burst = new Burst(room);
            for (int i = 0; i < readers; i++)
            {
                await burst.ConnectAsync(port, b =>
                {
                    ClientFrames.Hello(b, 1, $"{room}-reader-{i}", "tests");
                    ClientFrames.Join(b, 2, room);
                });
            }
            for (int i = 0; i < holders; i++)
            {
                Socket holder = await burst.ConnectAsync(port, b => ClientFrames.Hello(b, 1, $"{room}-holder-{i}", "tests"));
                var partial = new byte[ProtocolConstants.LengthPrefixSize + HeldFrame - 16];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(partial, HeldFrame);
                await SendAllAsync(holder, partial);
            }
            burst._publisher = await TestClient.HelloAsync(Ports.Loopback(port), room + "-publisher");
            await burst._publisher.SendAsync(b => ClientFrames.Join(b, 2, room));
            await burst._publisher.ExpectAsync<JoinedMessage>();
            return burst;
        }

        /// <summary>Publishes <paramref name="messages"/> large messages and waits until the daemon has read them all.</summary>
        public async Task FloodAsync(int messages)
        {
            var payload = new byte[PayloadSize];
            for (int i = 0; i < messages; i++) await _publisher!.SendAsync(b => ClientFrames.Publish(b, 0, _room, payload));
            await _publisher!.SendAsync(b => ClientFrames.Ping(b, 3));
            await _publisher.ExpectAsync<PongMessage>();
        }

        public async ValueTask DisposeAsync()
        {
            if (_publisher is not null) await _publisher.DisposeAsync();
            foreach (Socket socket in _sockets) socket.Dispose();
        }

        private async Task<Socket> ConnectAsync(int port, Action<FrameBuffer> hello)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
            _sockets.Add(socket);
            await socket.ConnectAsync(Ports.Loopback(port));
            using var frames = new FrameBuffer();
            hello(frames);
            await SendAllAsync(socket, frames.WrittenMemory);
            return socket;
        }

        private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> bytes)
        {
            while (!bytes.IsEmpty) bytes = bytes[await socket.SendAsync(bytes, SocketFlags.None)..];
        }
    }
}
