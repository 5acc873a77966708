using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;
using Xunit.Abstractions;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>While Redis is away each node serves its own members; when it returns every view converges.</summary>
public abstract class RedisOutageTests(TestRedis redis, ITestOutputHelper output)
{
    [Fact]
    public async Task Redis_killed_and_restarted_empty_under_traffic_then_views_converge()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await alice.JoinAsync("r");
        await bob.JoinAsync("r");
        await alice.ReceiveUntilAsync(Frames.JoinOf(bob.Conn), "bob's join at alice");

        cluster.Redis.Kill();
        ErrorMessage degraded = await PublishUntilDegradedAsync(bob, "r");
        Assert.Equal(ErrorCode.Degraded, degraded.Code);

        // Local service goes on: a join on alice's node succeeds and alice sees it at once.
        await using TestClient carol = await cluster[0].HelloAsync("carol");
        JoinedMessage carolJoined = await carol.JoinAsync("r");
        Assert.Contains(alice.Conn, carolJoined.Members.Select(m => m.Conn));
        await alice.ReceiveUntilAsync(Frames.JoinOf(carol.Conn), "carol's join at alice");

        await cluster.Redis.RestartEmptyAsync();
        // Bob's node learns of carol through the resync; its view converges to the true cluster state.
        string expected = new[] { alice.Conn, bob.Conn, carol.Conn }.Order(StringComparer.Ordinal).Aggregate((a, b) => a + "," + b);
        string seen = "";
        // On a timeout: the last view and what each node said of Redis (a resync, a failover, a lost write).
        string Said() => $"last view {seen}\n" + string.Join("\n", cluster.Nodes.Select(n => $"---- {n.Name}\n{n.Output}"));
        await Eventually.TrueAsync(async () => (seen = (await bob.PresenceSkippingAsync("r")).Members.Conns()) == expected, $"bob's view of r to be {expected}", TimeSpan.FromSeconds(8), Said);
        await Eventually.TrueAsync(async () => (seen = (await alice.PresenceSkippingAsync("r")).Members.Conns()) == expected, $"alice's view of r to be {expected}", TimeSpan.FromSeconds(4), Said);

        // Cross-node delivery works again. A diff may still reach alice first: on Sentinel the resync after the
        // restart can announce a member again (docs/cluster.md, failover). It may not change the converged view.
        await alice.SendAsync(b => ClientFrames.Publish(b, 21, "r", [5]));
        List<ServerMessage> beforeReply = await alice.ReceiveUntilAsync(m => m is OkMessage { Rid: 21 } or ErrorMessage { Rid: 21 }, "the reply to publish 21");
        foreach (PresenceDiffMessage late in beforeReply.OfType<PresenceDiffMessage>()) output.WriteLine($"late diff at alice: {late}");
        Assert.IsType<OkMessage>(beforeReply[^1]);
        Assert.Equal(expected, (await alice.PresenceSkippingAsync("r")).Members.Conns());
        List<ServerMessage> atBob = await bob.ReceiveUntilAsync(m => m is RoomMessage { Payload: [5] }, "alice's message 5 at bob");
        Assert.Contains(atBob.OfType<RoomMessage>(), m => m.Payload.SequenceEqual(new byte[] { 5 }));
    }

    [Fact]
    public async Task Redis_paused_longer_than_heartbeat_timeout_causes_no_false_leave_and_heals()
    {
        // The grace a pause is credited with is heartbeat_timeout (docs/cluster.md, cluster clock): a node whose library
        // takes longer than that to reconnect after the heal is a node cut off, and its members go. With the fixture's
        // 3 s, a Sentinel node that reconnected 3.3 s after the heal on a loaded 2-core machine lost its member to the
        // other node's sweep (run 15 of a clean loop); 6 s keeps the test about the pause, not about reconnect speed.
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2, new Dictionary<string, string> { ["heartbeat_timeout"] = "6s" });
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await alice.JoinAsync("r", will: [9]);
        await bob.JoinAsync("r", will: [8]);
        await alice.ReceiveUntilAsync(Frames.JoinOf(bob.Conn), "bob's join at alice");

        cluster.Redis.Pause();
        var paused = System.Diagnostics.Stopwatch.StartNew();
        // A resync cannot finish while Redis is paused: every "resync done" from here on follows the resume (and
        // no call can have timed out on the pause yet: each "redis unavailable" from here on is the pause's).
        int[] linesBefore = cluster.Nodes.Select(n => n.Lines.Count).ToArray();
        try
        {
            ErrorMessage degraded = await PublishUntilDegradedAsync(bob, "r");
            Assert.Equal(ErrorCode.Degraded, degraded.Code);
            // Both nodes saw the pause (alice's through its maintenance calls), however long that took on this machine.
            await Task.WhenAll(cluster.Nodes.Select((node, i) => node.WaitForLineAsync(TimeSpan.FromSeconds(15), linesBefore[i], "redis unavailable")));
            // The rest of the pause is the test: Redis stays away longer than any presence entry lives. A span of
            // time, not an event: counted from the pause, so a slow degrade above does not lengthen it.
            TimeSpan left = TimeSpan.FromSeconds(6) + TimeSpan.FromSeconds(1) - paused.Elapsed;
            if (left > TimeSpan.Zero) await Task.Delay(left);
        }
        finally
        {
            cluster.Redis.Resume();
        }

        // Healed: each node, once Redis answers again, rewrites its members and reloads its rooms.
        await Task.WhenAll(cluster.Nodes.Select((node, i) => node.WaitForLineAsync(TimeSpan.FromSeconds(15), linesBefore[i], "resync done")));

        // No node may take the pause for a death: no leave, no will, in either direction. The quiet spell is the
        // test: it spans four sweeps after the heal (and everything since the resume is still in the buffers).
        foreach ((TestClient client, TimeSpan quiet) in new[] { (alice, 4 * ClusterFixture.SweepInterval), (bob, TimeSpan.FromMilliseconds(300)) })
        {
            List<ServerMessage> frames = await client.DrainAsync(quiet);
            // What the nodes said, shown when the assertions below fail (which leave, and what the nodes saw of Redis).
            foreach (PresenceDiffMessage diff in frames.OfType<PresenceDiffMessage>()) output.WriteLine($"at {client.Conn}: joins {diff.Joins.Conns()} leaves {diff.Leaves.Conns()}");
            if (frames.OfType<PresenceDiffMessage>().Any(d => d.Leaves.Count > 0)) foreach (DaemonProcess node in cluster.Nodes) output.WriteLine(node.Name + ":\n" + node.Output);
            Assert.DoesNotContain(frames.OfType<PresenceDiffMessage>(), d => d.Leaves.Count > 0);
            Assert.DoesNotContain(frames.OfType<RoomMessage>(), m => m.Payload.Length == 1 && m.Payload[0] is 8 or 9);
        }
        string expected = new[] { alice.Conn, bob.Conn }.Order(StringComparer.Ordinal).Aggregate((a, b) => a + "," + b);
        Assert.Equal(expected, (await bob.PresenceSkippingAsync("r")).Members.Conns());
        await Eventually.TrueAsync(async () =>
        {
            ServerMessage? reply = await alice.PublishAsync("r", [1], rid: 77);
            return reply is OkMessage && (await bob.DrainAsync(TimeSpan.FromMilliseconds(300))).OfType<RoomMessage>().Any();
        }, "a publish from alice to reach bob again", TimeSpan.FromSeconds(5));
    }

    private async Task<ErrorMessage> PublishUntilDegradedAsync(TestClient client, string room)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        uint rid = 100;
        ErrorMessage error = await Eventually.ValueAsync(async () =>
        {
            ServerMessage? reply = await client.PublishAsync(room, [0], rid++);
            // Presence is eventually consistent: a diff about a member written just before may still arrive.
            while (reply is PresenceDiffMessage) reply = await client.ReceiveAsync();
            if (reply is ErrorMessage answer) return answer;
            Assert.IsType<OkMessage>(reply);
            return null;
        }, "a publish to be answered DEGRADED", TimeSpan.FromSeconds(5));
        output.WriteLine($"DEGRADED after {started.ElapsedMilliseconds} ms");
        return error;
    }
}

[Collection(SingleRedis.Collection)]
public sealed class RedisOutageTestsOnSingleRedis(SingleRedis redis, ITestOutputHelper output) : RedisOutageTests(redis, output);

[Collection(SentinelRedis.Collection)]
public sealed class RedisOutageTestsOnSentinel(SentinelRedis redis, ITestOutputHelper output) : RedisOutageTests(redis, output);

[Collection(ClusterRedis.Collection)]
public sealed class RedisOutageTestsOnRedisCluster(ClusterRedis redis, ITestOutputHelper output) : RedisOutageTests(redis, output);
