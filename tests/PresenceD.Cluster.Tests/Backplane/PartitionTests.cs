using System.Diagnostics;
using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;
using Xunit.Abstractions;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>
/// The partition contract of docs/cluster.md: one node blackholed from Redis (nothing moves, nothing closes) while the
/// others keep it. The others cannot tell it from a crash: after heartbeat_timeout + sweep_interval they give its
/// members up, exactly one leave and one will each. The cut-off node keeps serving its own clients (cross-node
/// publishes answered DEGRADED). On heal it re-joins its members: exactly one join each at the other nodes, and the
/// views converge. Single server only: on Sentinel and Redis Cluster the nodes learn the servers' addresses from
/// Redis itself and would go around a proxy; the code path after the link is lost is the same.
/// </summary>
[Collection(SingleRedis.Collection)]
public sealed class PartitionTests(SingleRedis redis, ITestOutputHelper output)
{
    [Fact]
    public async Task Node_blackholed_from_redis_is_given_up_once_and_rejoins_its_members_once_on_heal()
    {
        await using ChaosProxy link = ChaosProxy.Start(redis.Server.Port);
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2, perNode: i => i == 0
            ? new Dictionary<string, string> { ["redis"] = link.Endpoint }
            : new Dictionary<string, string>());
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await alice.JoinAsync("p", will: [0xA1]);
        await bob.JoinAsync("p");
        await alice.ReceiveUntilAsync(Frames.JoinOf(bob.Conn), "bob's join at alice");

        var clock = Stopwatch.StartNew();
        link.Blackhole();
        // Given up by the other node like a crashed one: alice's will, then her leave, once.
        List<ServerMessage> givenUp = await bob.ReceiveUntilAsync(Frames.LeaveOf(alice.Conn), "alice's leave at bob", TimeSpan.FromSeconds(20));
        output.WriteLine($"blackhole -> alice's leave at bob after {clock.ElapsedMilliseconds} ms");
        if (!givenUp.OfType<RoomMessage>().Any()) output.WriteLine("no will before the leave; node B said:\n" + cluster[1].Output);
        Assert.Single(givenUp.OfType<RoomMessage>(), m => m.FromConn == alice.Conn && m.Payload.SequenceEqual(new byte[] { 0xA1 }));
        Assert.True(clock.Elapsed >= ClusterFixture.HeartbeatTimeout, "not given up before heartbeat_timeout");

        // The cut-off node serves its own client: PRESENCE answers from what it knows, a cross-node publish is DEGRADED.
        await Eventually.TrueAsync(async () => await alice.PublishAsync("p", [1], rid: 90) is ErrorMessage { Code: PresenceD.Protocol.ErrorCode.Degraded },
            "a publish on the cut-off node to be answered DEGRADED");

        link.Heal();
        // On heal: exactly one join of alice at bob (her conn unchanged), no second leave, no second will.
        List<ServerMessage> rejoined = await bob.ReceiveUntilAsync(Frames.JoinOf(alice.Conn), "alice's re-join at bob", TimeSpan.FromSeconds(20));
        output.WriteLine($"heal -> alice's join at bob after {clock.ElapsedMilliseconds} ms in all");
        // The quiet spell is the test: several sweeps and refreshes after the heal, in which a second join, leave or will would show.
        List<ServerMessage> after = [.. rejoined, .. await bob.DrainAsync(4 * ClusterFixture.SweepInterval + TimeSpan.FromSeconds(1))];
        Assert.Equal(1, after.OfType<PresenceDiffMessage>().SelectMany(d => d.Joins).Count(j => j.Conn == alice.Conn));
        Assert.DoesNotContain(after.OfType<PresenceDiffMessage>(), d => d.Leaves.Count > 0);
        Assert.DoesNotContain(after.OfType<RoomMessage>(), m => m.Payload.SequenceEqual(new byte[] { 0xA1 }));

        string expected = new[] { alice.Conn, bob.Conn }.Order(StringComparer.Ordinal).Aggregate((x, y) => x + "," + y);
        Assert.Equal(expected, (await bob.PresenceSkippingAsync("p")).Members.Conns());
        await Eventually.TrueAsync(async () => (await alice.PresenceSkippingAsync("p")).Members.Conns() == expected, $"alice's view of p to be {expected}");
        await Eventually.TrueAsync(async () =>
        {
            ServerMessage? reply = await alice.PublishAsync("p", [2], rid: 91);
            while (reply is not null and not OkMessage and not ErrorMessage) reply = await alice.ReceiveAsync();
            return reply is OkMessage && (await bob.DrainAsync(TimeSpan.FromMilliseconds(300))).OfType<RoomMessage>().Any(m => m.Payload.SequenceEqual(new byte[] { 2 }));
        }, "a publish from the healed node to reach bob again", TimeSpan.FromSeconds(10));
    }
}
