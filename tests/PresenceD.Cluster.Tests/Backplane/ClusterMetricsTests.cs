using System.Globalization;
using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>The backplane's metrics move when the thing they count happens, read from a node's own /metrics.</summary>
[Collection(SingleRedis.Collection)]
public sealed class ClusterMetricsTests(SingleRedis redis)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Sweeps_latency_sweep_removals_and_backplane_errors_are_counted()
    {
        int[] admin = [Ports.Free(), Ports.Free()];
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2, perNode: i => new Dictionary<string, string> { ["admin_port"] = admin[i].ToString(CultureInfo.InvariantCulture) });
        DaemonProcess a = cluster[0];
        DaemonProcess b = cluster[1];
        int adminA = admin[0];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await using TestClient alice = await a.HelloAsync("alice");
        await using TestClient bob = await b.HelloAsync("bob");
        await alice.JoinAsync("m");
        await bob.JoinAsync("m");
        await alice.ExpectAsync<PresenceDiffMessage>(Wait);

        // Open rooms are swept every sweep_interval, and each Redis round trip is timed.
        await WaitForAsync(http, adminA, "presenced_sweeps_total", v => v >= 2);
        await WaitForAsync(http, adminA, "presenced_backplane_latency_seconds_count", v => v >= 1);
        Assert.Equal(0, await ReadAsync(http, adminA, "presenced_sweep_removed_total"));

        // bob's node dies: only node A is left to sweep bob's entry, and it counts the removal.
        await bob.StopPingingAsync();
        await b.KillAsync();
        PresenceDiffMessage leave = await alice.ExpectAsync<PresenceDiffMessage>(Wait);
        Assert.Equal(bob.Conn, Assert.Single(leave.Leaves).Conn);
        await WaitForAsync(http, adminA, "presenced_sweep_removed_total", v => v == 1);

        // Redis stops answering: calls time out and are counted.
        cluster.Redis.Pause();
        try
        {
            await WaitForAsync(http, adminA, "presenced_backplane_errors_total", v => v >= 1);
        }
        finally
        {
            cluster.Redis.Resume();
        }
    }

    [Fact]
    public async Task Questions_redis_cannot_answer_are_answered_with_what_the_node_knows_and_logged()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 1);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        cluster.Redis.Pause();
        try
        {
            PresenceStateMessage presence = await alice.PresenceAsync("held-nowhere");
            Assert.Empty(presence.Members);
            Assert.Equal(["alice"], (await alice.OnlineAsync(["alice", "bob"])).Online);
        }
        finally
        {
            cluster.Redis.Resume();
        }
        await cluster[0].WaitForLineAsync(Wait, "room held-nowhere: members not read from redis");
    }

    private static Task WaitForAsync(HttpClient http, int port, string sample, Func<double, bool> holds)
    {
        double value = double.NaN;
        return Eventually.TrueAsync(HoldsAsync, $"{sample} to reach the expected value", Wait, () => $"{sample} stayed at {value}");

        async Task<bool> HoldsAsync()
        {
            try
            {
                return holds(value = await ReadAsync(http, port, sample));
            }
            catch (HttpRequestException)
            {
                return false; // the admin port opens after the warm-up
            }
        }
    }

    private static async Task<double> ReadAsync(HttpClient http, int port, string sample)
    {
        string text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith(sample + " ", StringComparison.Ordinal)) return double.Parse(line[(sample.Length + 1)..], CultureInfo.InvariantCulture);
        }
        throw new Xunit.Sdk.XunitException($"/metrics has no {sample}");
    }
}
