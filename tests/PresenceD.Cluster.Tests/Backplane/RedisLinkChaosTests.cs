using System.Globalization;
using System.Text.RegularExpressions;
using PresenceD.Cluster.Tests.Support;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;
using Xunit.Abstractions;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>
/// Issue 17, chaos between one node and Redis: node A reaches Redis only through a <see cref="ChaosProxy"/>,
/// node B directly. While A's link is blackholed, slowed or cut, A's own members keep all their traffic (every
/// same-node message, in order; joins, updates and presence on A); once the link is healed, cross-node delivery
/// works again both ways and B sees what changed on A meanwhile. What the cluster as a whole promises during a
/// partition is docs/cluster.md's; this checks only the node-local guarantee and the heal.
/// </summary>
public sealed class RedisLinkChaosTests(ITestOutputHelper output)
{
    private const int Messages = 50;

    [Theory]
    [InlineData("blackhole")]
    [InlineData("delay")]
    [InlineData("cut")]
    public async Task A_node_cut_off_or_slowed_from_Redis_keeps_its_local_traffic_and_heals(string chaos)
    {
        using RedisProcess redis = await RedisProcess.StartAsync();
        await using ChaosProxy proxy = ChaosProxy.Start(redis.Port);
        // The nodes are started here, not by ClusterFixture: its per-node settings cannot replace `redis` for one node.
        await using DaemonProcess nodeA = await StartNodeAsync("nodeA", proxy.Endpoint);
        await using DaemonProcess nodeB = await StartNodeAsync("nodeB", redis.Endpoint);
        await using TestClient alice = await nodeA.HelloAsync("alice");
        await using TestClient carol = await nodeA.HelloAsync("carol");
        await using TestClient bob = await nodeB.HelloAsync("bob");
        await alice.JoinAsync("r");
        await carol.JoinAsync("r");
        await bob.JoinAsync("r");
        await alice.ReceiveUntilAsync(Frames.JoinOf(bob.Conn), "bob's join at alice");

        int linesBefore = nodeA.Lines.Count;
        switch (chaos)
        {
            case "blackhole": proxy.Blackhole(); break;
            case "delay": proxy.Delay(TimeSpan.FromSeconds(2)); break; // four times redis_timeout
            default: proxy.Cut(); break;
        }
        await PublishOneAsync(bob, "r", [0xB0]); // B keeps going; whether A gets this is the cluster contract's business
        try
        {
            // Same-node publish: every message reaches the other local member, in order, whatever Redis does.
            for (int i = 0; i < Messages; i++) await carol.SendAsync(f => ClientFrames.Publish(f, 0, "r", [(byte)i]));
            var received = new List<byte>();
            await alice.ReceiveUntilAsync(m =>
            {
                if (m is RoomMessage { FromConn: var from, Payload: [byte n] } && from == carol.Conn) received.Add(n);
                return received.Count == Messages;
            }, $"carol's {Messages} messages at alice while the link is {chaos}", TimeSpan.FromSeconds(20));
            Assert.Equal(Enumerable.Range(0, Messages).Select(i => (byte)i), received);

            // Same-node presence: a join and an update on A are seen on A, and A's snapshot has its own members.
            await using TestClient dave = await nodeA.HelloAsync("dave");
            JoinedMessage daveJoined = await dave.JoinAsync("r");
            Assert.Contains(alice.Conn, daveJoined.Members.Select(m => m.Conn));
            Assert.Contains(carol.Conn, daveJoined.Members.Select(m => m.Conn));
            await alice.ReceiveUntilAsync(Frames.JoinOf(dave.Conn), $"dave's join at alice while the link is {chaos}", TimeSpan.FromSeconds(20));
            await carol.SendAsync(f => ClientFrames.Update(f, 0, "r", [7], hasMeta: true));
            await alice.ReceiveUntilAsync(m => m is PresenceDiffMessage d && d.Joins.Any(j => j.Conn == carol.Conn && j.Meta is [7]),
                $"carol's update at alice while the link is {chaos}", TimeSpan.FromSeconds(20));
            output.WriteLine($"{chaos}: local traffic on node A went on; proxy forwarded {proxy.BytesForwarded} bytes so far");

            proxy.Heal();

            // Healed: B learns of dave, and messages cross in both directions again.
            await Eventually.TrueAsync(async () => (await bob.PresenceSkippingAsync("r")).Members.Any(m => m.Conn == dave.Conn),
                "bob's view of r to include dave, who joined on A while its link was down", TimeSpan.FromSeconds(30));
            await CrossesAsync(alice, bob, 0xA1, "alice -> bob after the heal");
            await CrossesAsync(bob, alice, 0xB1, "bob -> alice after the heal");
            output.WriteLine(string.Join("\n", nodeA.Lines.Skip(linesBefore).Where(l => l.Contains("redis", StringComparison.OrdinalIgnoreCase) || l.Contains("resync", StringComparison.Ordinal)).Take(20)));
        }
        finally
        {
            proxy.Heal();
        }
    }

    /// <summary>
    /// A SUBSCRIBE that times out on the node may still reach Redis: the node cannot tell, so when such a room closes it
    /// must still leave the channel. Once held for nothing, a channel carries the room's traffic to this node for as long
    /// as the connection lives, and it hides a missing channel from the subscription audit (which counts channels).
    /// </summary>
    [Fact]
    public async Task A_room_whose_subscribe_timed_out_leaves_no_channel_behind_once_it_closes()
    {
        using RedisProcess redis = await RedisProcess.StartAsync();
        await using ChaosProxy proxy = ChaosProxy.Start(redis.Port);
        await using DaemonProcess node = await StartNodeAsync("nodeA", proxy.Endpoint);
        long subscribesBefore = await SubscribeCallsAsync(redis);
        try
        {
            proxy.Delay(TimeSpan.FromSeconds(2)); // four times redis_timeout: the SUBSCRIBE times out on the node, then lands
            await using (TestClient alice = await node.HelloAsync("alice"))
            {
                await alice.JoinAsync("late");
                await Eventually.TrueAsync(() => node.Lines.Any(l => l.Contains("room late: subscribe failed", StringComparison.Ordinal)),
                    "the node to give up on the SUBSCRIBE of room late", TimeSpan.FromSeconds(20), () => "output:\n" + node.Output);
            } // alice gone: the room closes while Redis may or may not hold its channel
            proxy.Heal();
            await Eventually.TrueAsync(async () => await SubscribeCallsAsync(redis) > subscribesBefore,
                "Redis to receive the SUBSCRIBE of room late that the node gave up on", TimeSpan.FromSeconds(20));
            (int Held, string Clients) seen = (-1, "");
            await Eventually.TrueAsync(async () => (seen = await redis.ChannelsHeldByAsync("presenced-nodeA")).Held == 1,
                "Redis to hold no channel for the node once room late is closed but the node's own (pd:n:, for cross-node resumes)", TimeSpan.FromSeconds(15),
                () => $"held {seen.Held}; the node's pubsub connections:\n{seen.Clients}\noutput:\n{node.Output}");
        }
        finally
        {
            proxy.Heal();
        }
    }

    /// <summary>How many SUBSCRIBE commands <paramref name="redis"/> ran so far (a counter that only grows, unlike what it holds).</summary>
    private static async Task<long> SubscribeCallsAsync(RedisProcess redis)
    {
        string stats = await redis.CommandAsync("INFO", "commandstats") ?? "";
        Match calls = Regex.Match(stats, @"cmdstat_subscribe:calls=(\d+)");
        return calls.Success ? long.Parse(calls.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>A node with ClusterFixture's settings on <paramref name="redisEndpoint"/>, once its backplane is up.</summary>
    private static async Task<DaemonProcess> StartNodeAsync(string nodeId, string redisEndpoint)
    {
        var settings = new Dictionary<string, string>
        {
            ["heartbeat_interval"] = "1s",
            ["heartbeat_timeout"] = "3s",
            ["sweep_interval"] = "500ms",
            ["redis_timeout"] = "500ms",
            ["timer_tick"] = "50ms",
            ["log_level"] = "debug",
            ["backplane"] = "redis",
            ["redis"] = redisEndpoint,
            ["node_id"] = nodeId,
        };
        DaemonProcess node = await DaemonProcess.StartAsync(new DaemonSetup
        {
            Name = nodeId,
            Arguments = [.. settings.SelectMany(s => new[] { "--" + s.Key, s.Value })],
            KeepLogFile = true,
        });
        await node.WaitUntilListeningAsync();
        // As ClusterFixture waits: no "redis unavailable" or "starting degraded" after the last "resync done".
        await Eventually.TrueAsync(() =>
        {
            string[] lines = [.. node.Lines];
            int down = Array.FindLastIndex(lines, l => l.Contains("redis unavailable", StringComparison.Ordinal) || l.Contains("starting degraded", StringComparison.Ordinal));
            return down < 0 || down < Array.FindLastIndex(lines, l => l.Contains("resync done", StringComparison.Ordinal));
        }, $"{nodeId}'s backplane to be up", TimeSpan.FromSeconds(20), () => "output:\n" + node.Output);
        return node;
    }

    private static Task PublishOneAsync(TestClient client, string room, byte[] payload) =>
        client.SendAsync(f => ClientFrames.Publish(f, 0, room, payload));

    /// <summary>
    /// Publishes from <paramref name="from"/> until one arrives at <paramref name="to"/>: right after the heal the
    /// node may still be reconnecting, and what it published before is at most once (docs/cluster.md).
    /// </summary>
    private static Task CrossesAsync(TestClient from, TestClient to, byte tag, string what)
    {
        byte attempt = 0;
        return Eventually.TrueAsync(async () =>
        {
            byte[] payload = [tag, ++attempt];
            await PublishOneAsync(from, "r", payload);
            try
            {
                await to.ReceiveUntilAsync(m => m is RoomMessage { Payload: [var t, _] } && t == tag, what, TimeSpan.FromSeconds(2));
                return true;
            }
            catch (WaitTimeoutException)
            {
                return false;
            }
        }, what, TimeSpan.FromSeconds(30));
    }
}
