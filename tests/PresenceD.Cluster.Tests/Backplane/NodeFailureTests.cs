using System.Diagnostics;
using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;
using Xunit.Abstractions;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>A node that dies leaves no ghost: its members vanish everywhere, one leave and one will each.</summary>
public abstract class NodeFailureTests(TestRedis redis, ITestOutputHelper output)
{
    [Fact]
    public async Task Kill9_of_a_node_removes_its_members_once_with_their_wills_within_timeout_plus_sweep()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 3);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        await using TestClient alice2 = await cluster[0].HelloAsync("alice2");
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await using TestClient carol = await cluster[2].HelloAsync("carol");
        await alice.JoinAsync("r", will: [0xAA]);
        await alice2.JoinAsync("r");
        await bob.JoinAsync("r");
        await carol.JoinAsync("r");
        await bob.ReceiveUntilAsync(Frames.JoinOf(carol.Conn), "carol's join at bob");
        await carol.DrainAsync(TimeSpan.FromMilliseconds(100)); // carol joined last and expects nothing: only discards a stray frame, as before
        string[] gone = [alice.Conn, alice2.Conn];

        var clock = Stopwatch.StartNew();
        await cluster[0].KillAsync();
        Task<(List<ServerMessage> Frames, TimeSpan LastLeave)> atBob = CollectLeavesAsync(bob, clock, gone.Length);
        Task<(List<ServerMessage> Frames, TimeSpan LastLeave)> atCarol = CollectLeavesAsync(carol, clock, gone.Length);
        (List<ServerMessage> bobFrames, TimeSpan bobLast) = await atBob;
        (List<ServerMessage> carolFrames, TimeSpan carolLast) = await atCarol;
        output.WriteLine($"kill -9 -> last leave diff: bob {bobLast.TotalMilliseconds:F0} ms, carol {carolLast.TotalMilliseconds:F0} ms " +
            $"(heartbeat_timeout {ClusterFixture.HeartbeatTimeout.TotalMilliseconds} ms + sweep_interval {ClusterFixture.SweepInterval.TotalMilliseconds} ms)");

        foreach (List<ServerMessage> frames in new[] { bobFrames, carolFrames })
        {
            // Exactly: alice's will, then her leave; alice2's leave; nothing else, ever.
            Assert.Equal(gone.Order(StringComparer.Ordinal), frames.OfType<PresenceDiffMessage>().SelectMany(d => d.Leaves).Select(m => m.Conn).Order(StringComparer.Ordinal));
            Assert.Empty(frames.OfType<PresenceDiffMessage>().SelectMany(d => d.Joins));
            RoomMessage will = Assert.Single(frames.OfType<RoomMessage>());
            Assert.Equal(alice.Conn, will.FromConn);
            Assert.Equal([0xAA], will.Payload);
            int willAt = frames.IndexOf(will);
            int aliceLeaveAt = frames.FindIndex(f => f is PresenceDiffMessage d && d.Leaves.Any(m => m.Conn == alice.Conn));
            Assert.True(willAt < aliceLeaveAt, "the will comes just before the leave");
        }
        TimeSpan bound = ClusterFixture.HeartbeatTimeout + ClusterFixture.SweepInterval + TimeSpan.FromMilliseconds(1500); // slack: process scheduling on a shared machine
        Assert.True(bobLast < bound && carolLast < bound, $"leaves took {bobLast} / {carolLast}, bound {bound}");

        Assert.True(await bob.NothingWithinAsync(TimeSpan.FromSeconds(1.5)), "no second leave or will");
        Assert.True(await carol.NothingWithinAsync(TimeSpan.FromMilliseconds(100)));
        Assert.Equal(new[] { bob.Conn, carol.Conn }.Order(StringComparer.Ordinal), (await bob.PresenceAsync("r")).Members.Select(m => m.Conn).Order(StringComparer.Ordinal));
        Assert.Equal(["bob"], (await carol.OnlineAsync(["alice", "alice2", "bob"])).Online);
    }

    [Fact]
    public async Task Silent_client_is_removed_on_every_node_with_its_will_once()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await alice.JoinAsync("r", will: [1, 2]);
        await bob.JoinAsync("r");
        await alice.ReceiveUntilAsync(Frames.JoinOf(bob.Conn), "bob's join at alice");

        await alice.StopPingingAsync();
        var clock = Stopwatch.StartNew();
        (List<ServerMessage> frames, TimeSpan last) = await CollectLeavesAsync(bob, clock, 1);
        output.WriteLine($"silent client -> leave diff on the other node after {last.TotalMilliseconds:F0} ms");
        Assert.Equal([1, 2], Assert.Single(frames.OfType<RoomMessage>()).Payload);
        Assert.Equal(alice.Conn, Assert.Single(frames.OfType<PresenceDiffMessage>().SelectMany(d => d.Leaves)).Conn);
        Assert.True(await bob.NothingWithinAsync(TimeSpan.FromSeconds(1)));
    }

    private static async Task<(List<ServerMessage>, TimeSpan)> CollectLeavesAsync(TestClient client, Stopwatch clock, int leaves)
    {
        var frames = new List<ServerMessage>();
        TimeSpan last = TimeSpan.Zero;
        int seen = 0;
        while (seen < leaves)
        {
            ServerMessage message = await client.ReceiveAsync(TimeSpan.FromSeconds(10)) ?? throw new Xunit.Sdk.XunitException("closed");
            frames.Add(message);
            if (message is PresenceDiffMessage diff && diff.Leaves.Count > 0)
            {
                seen += diff.Leaves.Count;
                last = clock.Elapsed;
            }
        }
        return (frames, last);
    }
}

[Collection(SingleRedis.Collection)]
public sealed class NodeFailureTestsOnSingleRedis(SingleRedis redis, ITestOutputHelper output) : NodeFailureTests(redis, output);

[Collection(SentinelRedis.Collection)]
public sealed class NodeFailureTestsOnSentinel(SentinelRedis redis, ITestOutputHelper output) : NodeFailureTests(redis, output);

[Collection(ClusterRedis.Collection)]
public sealed class NodeFailureTestsOnRedisCluster(ClusterRedis redis, ITestOutputHelper output) : NodeFailureTests(redis, output);
