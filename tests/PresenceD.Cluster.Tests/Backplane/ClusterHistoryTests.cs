using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>History rooms keep their messages in Redis: a client that reconnects to another node recovers exactly what it missed.</summary>
public abstract class ClusterHistoryTests(TestRedis redis)
{
    // These tests are about what a JOIN reads from Redis, not about Redis failing: a read that outlived the fixture's
    // 500 ms redis_timeout on a busy machine would join without the history (the documented degraded case) and fail
    // them for the wrong reason.
    private static Dictionary<string, string> Patient(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string> { ["redis_timeout"] = "3s" };
        foreach ((string key, string value) in more) settings[key] = value;
        return settings;
    }

    [Theory]
    [InlineData(1)] // a node that holds the room (its members kept it subscribed)
    [InlineData(2)] // a node that never held it: the first join there reads Redis
    public async Task Reconnect_to_another_node_recovers_exactly_the_missed_messages_in_order(int reconnectTo)
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 3, Patient());
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await bob.JoinAsync("h-chat");
        JoinedMessage first;
        ulong lastSeen;
        string aliceConn;
        await using (TestClient alice = await cluster[0].HelloAsync("alice"))
        {
            aliceConn = alice.Conn;
            first = await alice.JoinAsync("h-chat");
            Assert.Equal(0ul, first.Offset);
            await bob.ReceiveUntilAsync(Frames.JoinOf(aliceConn), "alice's join at bob");
            for (byte i = 1; i <= 2; i++) Assert.IsType<OkMessage>(await bob.PublishAsync("h-chat", [i]));
            RoomMessage m1 = await alice.ExpectAsync<RoomMessage>();
            RoomMessage m2 = await alice.ExpectAsync<RoomMessage>();
            Assert.Equal((1ul, 2ul), (m1.Offset, m2.Offset));
            Assert.Equal([2], m2.Payload);
            lastSeen = m2.Offset;
        }
        Assert.NotEmpty(first.Epoch);
        await bob.ReceiveUntilAsync(Frames.LeaveOf(aliceConn), "alice's leave at bob");
        for (byte i = 3; i <= 5; i++) Assert.IsType<OkMessage>(await bob.PublishAsync("h-chat", [i]));

        await using TestClient back = await cluster[reconnectTo].HelloAsync("alice");
        JoinedMessage rejoined = await back.JoinAsync("h-chat", since: (first.Epoch, lastSeen));
        Assert.True(rejoined.Recovered);
        Assert.Equal(first.Epoch, rejoined.Epoch);
        // The offset is the last message this node has delivered: bob's OK for message 5 can come before message 5
        // is back on the room's channel at bob's node (reconnectTo 1), and then it follows JOINED live. Either way
        // 3, 4 and 5 come next, in order and once.
        Assert.InRange(rejoined.Offset, 2ul, 5ul);
        for (byte i = 3; i <= 5; i++)
        {
            RoomMessage missed = await back.ExpectAsync<RoomMessage>();
            Assert.Equal((ulong)i, missed.Offset);
            Assert.Equal([i], missed.Payload);
            Assert.Equal("bob", missed.FromUser);
        }
        Assert.Equal(back.Conn, Assert.Single((await bob.ExpectAsync<PresenceDiffMessage>()).Joins).Conn);
        Assert.IsType<OkMessage>(await bob.PublishAsync("h-chat", [6]));
        // Message 6 live, then a quiet spell in which a duplicate would show.
        List<ServerMessage> after = [.. await back.ReceiveUntilAsync(m => m is RoomMessage, "message 6, live"), .. await back.DrainAsync(TimeSpan.FromMilliseconds(500))];
        RoomMessage live = Assert.Single(after.OfType<RoomMessage>());
        Assert.Equal((6ul, (byte)6), (live.Offset, live.Payload[0]));
        Assert.Empty((await bob.DrainAsync(TimeSpan.FromMilliseconds(200))).OfType<RoomMessage>()); // never its own messages
    }

    [Fact]
    public async Task A_join_after_redis_returned_reads_the_epoch_before_the_node_resynced()
    {
        // No maintenance tick during the test: a node that saw Redis fail stays degraded until its resync, which
        // only a tick starts, so every JOIN below runs while the node still calls itself degraded. A longer
        // redis_timeout keeps the start from timing out on a busy machine (no tick would resync that either).
        var settings = new Dictionary<string, string> { ["sweep_interval"] = "5m", ["heartbeat_timeout"] = "5m", ["redis_timeout"] = "3s" };
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2, settings);
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        JoinedMessage atBob = await bob.JoinAsync("h-e");
        Assert.IsType<OkMessage>(await bob.PublishAsync("h-e", [1]));
        await cluster.Redis.WaitForHistoryOffsetAsync("h-e", 1);

        await using TestClient alice = await cluster[0].HelloAsync("alice");
        int before = cluster[0].Lines.Count;
        cluster.Redis.Pause();
        try
        {
            // Redis does not answer: the join reads nothing (the documented degraded case), and the node goes degraded.
            JoinedMessage blind = await alice.JoinAsync("h-e");
            Assert.Equal(("", 0ul, false), (blind.Epoch, blind.Offset, blind.Recovered));
            await cluster[0].WaitForLineAsync(TimeSpan.FromSeconds(10), before, "redis unavailable");
        }
        finally
        {
            cluster.Redis.Resume();
        }

        // Redis answers again; the node has not resynced. Alice joins again to learn the epoch: the re-JOIN reads
        // Redis rather than answering "" (the circuit breaker may still refuse the first calls for a moment).
        uint rid = 10;
        JoinedMessage again = await Eventually.ValueAsync(async () =>
        {
            JoinedMessage j = await alice.JoinAsync("h-e", rid: ++rid);
            return j.Epoch.Length > 0 ? j : null;
        }, "a re-JOIN of h-e on the degraded node to name the epoch", TimeSpan.FromSeconds(15), () => cluster[0].Output);
        Assert.Equal((atBob.Epoch, 1ul, false), (again.Epoch, again.Offset, again.Recovered)); // a re-JOIN never recovers in a cluster

        // A first JOIN there reads Redis too, and recovers.
        await using TestClient carol = await cluster[0].HelloAsync("carol");
        JoinedMessage joined = await carol.JoinAsync("h-e", since: (atBob.Epoch, 0));
        Assert.Equal((atBob.Epoch, 1ul, true), (joined.Epoch, joined.Offset, joined.Recovered));
        RoomMessage replayed = await carol.ExpectAsync<RoomMessage>();
        Assert.Equal((1ul, (byte)1), (replayed.Offset, replayed.Payload[0]));
        // Message 1 came before alice's JOIN: the node's first read of the history must not hand it to her.
        Assert.Empty((await alice.DrainAsync(TimeSpan.FromMilliseconds(300))).OfType<RoomMessage>());
        Assert.Null(cluster[0].Lines.Find(before, "resync done")); // still degraded: the epoch came from the joins' own reads
    }

    [Fact]
    public async Task A_second_join_sent_before_the_first_joined_is_answered_after_it_with_the_epoch()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2, Patient());
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        JoinedMessage atBob = await bob.JoinAsync("h-twice");
        Assert.IsType<OkMessage>(await bob.PublishAsync("h-twice", [1]));
        await cluster.Redis.WaitForHistoryOffsetAsync("h-twice", 1);

        // Both JOINs in one write, while the room is new on node 0: the first waits for the room's subscription and
        // history read, and the receive path awaits it before the second, a re-JOIN, which must not overtake it.
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        await alice.SendAsync(b =>
        {
            ClientFrames.Join(b, 1, "h-twice");
            ClientFrames.Join(b, 2, "h-twice", meta: [7], hasMeta: true);
        });
        JoinedMessage first = await alice.ExpectAsync<JoinedMessage>();
        JoinedMessage second = await alice.ExpectAsync<JoinedMessage>();
        Assert.Equal((1u, atBob.Epoch, 1ul), (first.Rid, first.Epoch, first.Offset));
        Assert.Equal((2u, atBob.Epoch, 1ul), (second.Rid, second.Epoch, second.Offset));
        Assert.Equal([7], Assert.Single(second.Members, m => m.Conn == alice.Conn).Meta);
        // Bob sees alice join, then her meta change (the second JOIN acts as UPDATE), in that order.
        await bob.ReceiveUntilAsync(Frames.JoinOf(alice.Conn), "alice's join at bob");
        PresenceDiffMessage update = await bob.ExpectAsync<PresenceDiffMessage>();
        Assert.Equal(alice.Conn, Assert.Single(update.Joins).Conn);
        Assert.Equal(alice.Conn, Assert.Single(update.Leaves).Conn);
    }

    [Fact]
    public async Task Unknown_epoch_or_trimmed_offset_is_not_recovered()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2, Patient(("history_size", "2")));
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await bob.JoinAsync("h-x");
        for (byte i = 1; i <= 4; i++) Assert.IsType<OkMessage>(await bob.PublishAsync("h-x", [i]));
        // Each OK comes when the publish is queued; the offsets exist once Redis ran the appends.
        await cluster.Redis.WaitForHistoryOffsetAsync("h-x", 4);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        JoinedMessage plain = await alice.JoinAsync("h-x");
        Assert.True(plain.Offset == 4, $"JOINED at offset {plain.Offset}, not 4 (epoch '{plain.Epoch}'); node 0 said:\n{cluster[0].Output}");
        Assert.False(plain.Recovered);

        await using TestClient carol = await cluster[0].HelloAsync("carol");
        JoinedMessage trimmed = await carol.JoinAsync("h-x", since: (plain.Epoch, 1)); // 2 was trimmed (history_size 2)
        Assert.False(trimmed.Recovered);
        Assert.True(await carol.NothingWithinAsync(TimeSpan.FromMilliseconds(200)));

        await using TestClient dave = await cluster[0].HelloAsync("dave");
        Assert.False((await dave.JoinAsync("h-x", since: ("other-epoch", 3))).Recovered);

        await using TestClient erin = await cluster[0].HelloAsync("erin");
        JoinedMessage exact = await erin.JoinAsync("h-x", since: (plain.Epoch, 2));
        Assert.True(exact.Recovered);
        ulong third = (await erin.ExpectAsync<RoomMessage>()).Offset;
        ulong fourth = (await erin.ExpectAsync<RoomMessage>()).Offset;
        Assert.Equal((3ul, 4ul), (third, fourth));
    }
}

[Collection(SingleRedis.Collection)]
public sealed class ClusterHistoryTestsOnSingleRedis(SingleRedis redis) : ClusterHistoryTests(redis);

[Collection(SentinelRedis.Collection)]
public sealed class ClusterHistoryTestsOnSentinel(SentinelRedis redis) : ClusterHistoryTests(redis);

[Collection(ClusterRedis.Collection)]
public sealed class ClusterHistoryTestsOnRedisCluster(ClusterRedis redis) : ClusterHistoryTests(redis);
