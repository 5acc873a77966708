using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>History rooms keep their messages in Redis: a client that reconnects to another node recovers exactly what it missed.</summary>
public abstract class ClusterHistoryTests(TestRedis redis)
{
    [Theory]
    [InlineData(1)] // a node that holds the room (its members kept it subscribed)
    [InlineData(2)] // a node that never held it: the first join there reads Redis
    public async Task Reconnect_to_another_node_recovers_exactly_the_missed_messages_in_order(int reconnectTo)
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 3);
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
        Assert.Equal(5ul, rejoined.Offset);
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
    public async Task Unknown_epoch_or_trimmed_offset_is_not_recovered()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2, new Dictionary<string, string> { ["history_size"] = "2" });
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await bob.JoinAsync("h-x");
        for (byte i = 1; i <= 4; i++) Assert.IsType<OkMessage>(await bob.PublishAsync("h-x", [i]));
        // Each OK comes when the publish is queued; the offsets exist once Redis ran the appends.
        await cluster.Redis.WaitForHistoryOffsetAsync("h-x", 4);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        JoinedMessage plain = await alice.JoinAsync("h-x");
        Assert.Equal(4ul, plain.Offset);
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
