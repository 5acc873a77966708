using PresenceD.Cluster.Tests.Support;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using Xunit.Abstractions;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>While Redis is away each node serves its own members; when it returns every view converges.</summary>
public sealed class RedisOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Redis_killed_and_restarted_empty_under_traffic_then_views_converge()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(2);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await alice.JoinAsync("r");
        await bob.JoinAsync("r");
        await alice.DrainAsync(TimeSpan.FromMilliseconds(200));

        cluster.Redis.Kill();
        ErrorMessage degraded = await PublishUntilDegradedAsync(bob, "r");
        Assert.Equal(ErrorCode.Degraded, degraded.Code);

        // Local service goes on: a join on alice's node succeeds and alice sees it at once.
        await using TestClient carol = await cluster[0].HelloAsync("carol");
        JoinedMessage carolJoined = await carol.JoinAsync("r");
        Assert.Contains(alice.Conn, carolJoined.Members.Select(m => m.Conn));
        await alice.DrainAsync(TimeSpan.FromMilliseconds(200));

        await cluster.Redis.RestartAsync();
        // Bob's node learns of carol through the resync; its view converges to the true cluster state.
        string expected = new[] { alice.Conn, bob.Conn, carol.Conn }.Order(StringComparer.Ordinal).Aggregate((a, b) => a + "," + b);
        await Eventually(async () => (await bob.PresenceSkippingAsync("r")).Members.Conns() == expected, TimeSpan.FromSeconds(8), bob);
        await Eventually(async () => (await alice.PresenceSkippingAsync("r")).Members.Conns() == expected, TimeSpan.FromSeconds(4), alice);

        // Cross-node delivery works again.
        Assert.IsType<OkMessage>(await alice.PublishAsync("r", [5]));
        List<ServerMessage> atBob = await bob.DrainAsync(TimeSpan.FromMilliseconds(500));
        Assert.Contains(atBob.OfType<RoomMessage>(), m => m.Payload.SequenceEqual(new byte[] { 5 }));
    }

    [Fact]
    public async Task Redis_paused_longer_than_heartbeat_timeout_causes_no_false_leave_and_heals()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(2);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await alice.JoinAsync("r", will: [9]);
        await bob.JoinAsync("r", will: [8]);
        await alice.DrainAsync(TimeSpan.FromMilliseconds(200));

        cluster.Redis.Pause();
        try
        {
            ErrorMessage degraded = await PublishUntilDegradedAsync(bob, "r");
            Assert.Equal(ErrorCode.Degraded, degraded.Code);
            await Task.Delay(ClusterFixture.HeartbeatTimeout + TimeSpan.FromSeconds(1));
        }
        finally
        {
            cluster.Redis.Resume();
        }

        // No node may take the pause for a death: no leave, no will, in either direction.
        await Task.Delay(TimeSpan.FromSeconds(2));
        foreach (TestClient client in new[] { alice, bob })
        {
            List<ServerMessage> frames = await client.DrainAsync(TimeSpan.FromMilliseconds(300));
            Assert.DoesNotContain(frames.OfType<PresenceDiffMessage>(), d => d.Leaves.Count > 0);
            Assert.DoesNotContain(frames.OfType<RoomMessage>(), m => m.Payload.Length == 1 && m.Payload[0] is 8 or 9);
        }
        string expected = new[] { alice.Conn, bob.Conn }.Order(StringComparer.Ordinal).Aggregate((a, b) => a + "," + b);
        Assert.Equal(expected, (await bob.PresenceSkippingAsync("r")).Members.Conns());
        await Eventually(async () =>
        {
            ServerMessage? reply = await alice.PublishAsync("r", [1], rid: 77);
            return reply is OkMessage && (await bob.DrainAsync(TimeSpan.FromMilliseconds(300))).OfType<RoomMessage>().Any();
        }, TimeSpan.FromSeconds(5), null);
    }

    private async Task<ErrorMessage> PublishUntilDegradedAsync(TestClient client, string room)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (uint rid = 100; started.Elapsed < TimeSpan.FromSeconds(5); rid++)
        {
            ServerMessage? reply = await client.PublishAsync(room, [0], rid);
            // Presence is eventually consistent: a diff about a member written just before may still arrive.
            while (reply is PresenceDiffMessage) reply = await client.ReceiveAsync();
            if (reply is ErrorMessage error)
            {
                output.WriteLine($"DEGRADED after {started.ElapsedMilliseconds} ms");
                return error;
            }
            Assert.IsType<OkMessage>(reply);
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException("publishes were never answered DEGRADED");
    }

    private static async Task Eventually(Func<Task<bool>> condition, TimeSpan timeout, TestClient? drain)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (started.Elapsed > timeout) throw new Xunit.Sdk.XunitException("did not converge in time");
            if (drain is not null) await drain.DrainAsync(TimeSpan.FromMilliseconds(100));
            await Task.Delay(200);
        }
    }
}
