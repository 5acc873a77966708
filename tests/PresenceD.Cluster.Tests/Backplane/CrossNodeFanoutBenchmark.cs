using System.Buffers.Binary;
using System.Diagnostics;
using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;
using Xunit.Abstractions;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>
/// Cross-node fan-out through one Redis: a publisher on node A, subscribers on node B; messages/s and
/// latency percentiles. Opt-in (minutes of CPU on a shared machine):
/// PD_CLUSTER_BENCH=1 dotnet test tests/PresenceD.Cluster.Tests -c Release --filter "FullyQualifiedName~CrossNodeFanoutBenchmark" --logger "console;verbosity=detailed"
/// </summary>
[Collection(SingleRedis.Collection)]
public sealed class CrossNodeFanoutBenchmark(SingleRedis redis, ITestOutputHelper output)
{
    private static bool Enabled => Environment.GetEnvironmentVariable("PD_CLUSTER_BENCH") == "1";

    [Theory]
    [InlineData(20_000, 0, 4)]     // flat out: throughput
    [InlineData(10_000, 2_000, 4)] // paced at 2000 msg/s: latency
    public async Task Publisher_on_A_subscribers_on_B(int messages, int ratePerSecond, int subscribers)
    {
        if (!Enabled)
        {
            output.WriteLine("skipped: set PD_CLUSTER_BENCH=1");
            return;
        }
        // info, not warning: the harness waits for the start line, which is logged at info.
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2, new Dictionary<string, string> { ["log_level"] = "info", ["send_queue_limit"] = "64mb" });
        await using TestClient publisher = await cluster[0].HelloAsync("pub");
        await publisher.JoinAsync("bench");
        var receivers = new List<TestClient>();
        for (int i = 0; i < subscribers; i++)
        {
            TestClient receiver = await cluster[1].HelloAsync("sub" + i);
            await receiver.JoinAsync("bench");
            receivers.Add(receiver);
        }
        int joins = 0;
        await publisher.ReceiveUntilAsync(m => m is PresenceDiffMessage && ++joins == subscribers, "the subscribers' joins at the publisher");

        var latencies = new long[messages];
        Task<TimeSpan> measured = ReceiveAllAsync(receivers[0], messages, latencies);
        Task[] others = receivers.Skip(1).Select(r => ReceiveAllAsync(r, messages, new long[messages])).ToArray<Task>();
        var clock = Stopwatch.StartNew();
        var payload = new byte[16];
        for (int i = 0; i < messages; i++)
        {
            if (ratePerSecond > 0)
            {
                long due = (long)i * Stopwatch.Frequency / ratePerSecond;
                while (clock.ElapsedTicks < due) await Task.Yield();
            }
            BinaryPrimitives.WriteInt32BigEndian(payload, i);
            BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(4), Stopwatch.GetTimestamp());
            await publisher.SendAsync(b => ClientFrames.Publish(b, 0, "bench", payload));
        }
        TimeSpan elapsed = await measured;
        await Task.WhenAll(others);
        Array.Sort(latencies);
        double Ms(double p) => latencies[(int)Math.Min(latencies.Length - 1, p * latencies.Length)] * 1000.0 / Stopwatch.Frequency;
        output.WriteLine($"{messages} msgs, rate {(ratePerSecond == 0 ? "max" : ratePerSecond + "/s")}, {subscribers} subscribers on node B: " +
            $"{messages / elapsed.TotalSeconds:F0} msg/s received by each, {messages * subscribers / elapsed.TotalSeconds:F0} deliveries/s; " +
            $"latency p50 {Ms(0.50):F2} ms, p99 {Ms(0.99):F2} ms, max {Ms(1.0):F2} ms");
        foreach (TestClient receiver in receivers) await receiver.DisposeAsync();
    }

    private static async Task<TimeSpan> ReceiveAllAsync(TestClient client, int messages, long[] latencies)
    {
        var clock = Stopwatch.StartNew();
        for (int received = 0; received < messages;)
        {
            if (await client.ReceiveAsync(TimeSpan.FromSeconds(20)) is not RoomMessage message) continue;
            latencies[received++] = Stopwatch.GetTimestamp() - BinaryPrimitives.ReadInt64BigEndian(message.Payload.AsSpan(4));
        }
        return clock.Elapsed;
    }
}
