using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>Clients on different nodes sharing one Redis see, join and talk with each other as on one node.</summary>
public abstract class CrossNodeTests(TestRedis redis)
{
    [Fact]
    public async Task Join_update_publish_and_leave_cross_nodes()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        await using TestClient bob = await cluster[1].HelloAsync("bob");

        JoinedMessage aliceJoined = await alice.JoinAsync("lobby", meta: [1]);
        Assert.Equal(1, aliceJoined.Total);

        // Alice's JOINED does not wait for her write to reach Redis (docs/cluster.md): bob's node shows her in his
        // JOINED, or, when her write was still on its way, in a join diff right after it. Once, either way.
        JoinedMessage bobJoined = await bob.JoinAsync("lobby", meta: [2]);
        List<Member> aliceSeenByBob = [.. bobJoined.Members.Where(m => m.Conn == alice.Conn)];
        if (aliceSeenByBob.Count == 0)
        {
            Assert.Equal((1, bob.Conn), (bobJoined.Total, Assert.Single(bobJoined.Members).Conn));
            PresenceDiffMessage late = await bob.ExpectAsync<PresenceDiffMessage>();
            aliceSeenByBob = [.. late.Joins];
            Assert.Empty(late.Leaves);
        }
        else
        {
            Assert.Equal(2, bobJoined.Total);
            Assert.Equal(new[] { alice.Conn, bob.Conn }.Order(StringComparer.Ordinal), bobJoined.Members.Select(m => m.Conn).Order(StringComparer.Ordinal));
        }
        Assert.Equal(alice.Conn, Assert.Single(aliceSeenByBob).Conn);
        Assert.Equal([1], aliceSeenByBob[0].Meta);

        PresenceDiffMessage joinDiff = await alice.ExpectAsync<PresenceDiffMessage>();
        Assert.Equal(bob.Conn, Assert.Single(joinDiff.Joins).Conn);
        Assert.Empty(joinDiff.Leaves);

        Assert.IsType<OkMessage>(await bob.PublishAsync("lobby", [7, 7]));
        RoomMessage message = await alice.ExpectAsync<RoomMessage>();
        Assert.Equal(("lobby", "bob", bob.Conn), (message.Room, message.FromUser, message.FromConn));
        Assert.Equal([7, 7], message.Payload);
        Assert.True(await bob.NothingWithinAsync(TimeSpan.FromMilliseconds(200)), "the publisher does not get its own message");

        await alice.SendAsync(b => ClientFrames.Update(b, 11, "lobby", [9], true));
        Assert.IsType<OkMessage>(await alice.ReceiveAsync());
        PresenceDiffMessage update = await bob.ExpectAsync<PresenceDiffMessage>();
        Assert.Equal([1], Assert.Single(update.Leaves).Meta);
        Assert.Equal([9], Assert.Single(update.Joins).Meta);

        await bob.SendAsync(b => ClientFrames.Leave(b, 12, "lobby"));
        Assert.IsType<OkMessage>(await bob.ReceiveAsync());
        PresenceDiffMessage leave = await alice.ExpectAsync<PresenceDiffMessage>();
        Assert.Equal(bob.Conn, Assert.Single(leave.Leaves).Conn);
        Assert.Empty(leave.Joins);

        // Bob's node unsubscribed with its last member: messages it no longer holds do not reach him.
        Assert.IsType<OkMessage>(await alice.PublishAsync("lobby", [1]));
        Assert.True(await bob.NothingWithinAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Presence_count_and_online_answer_for_the_whole_cluster()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 3);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        await using TestClient bob = await cluster[1].HelloAsync("bob");
        await using TestClient bob2 = await cluster[0].HelloAsync("bob");
        await using TestClient carol = await cluster[2].HelloAsync("carol");
        await alice.JoinAsync("room");
        JoinedMessage bobJoined = await bob.JoinAsync("room");
        await bob2.JoinAsync("room");
        // Alice's JOINED does not wait for her write to reach Redis (docs/cluster.md): bob sees her in his JOINED or,
        // when her write was still on its way, in a join diff right after it.
        int aliceLate = bobJoined.Members.Any(m => m.Conn == alice.Conn) ? 0 : 1;
        // The join diffs, then a quiet spell in which another one would show.
        int diffs = 0;
        List<ServerMessage> atAlice = await alice.ReceiveUntilAsync(m => m is PresenceDiffMessage && ++diffs == 2, "bob's and bob2's joins at alice");
        Assert.Equal(2, atAlice.Concat(await alice.DrainAsync(TimeSpan.FromMilliseconds(300))).OfType<PresenceDiffMessage>().Count());
        List<ServerMessage> atBob = await bob.ReceiveUntilAsync(Frames.JoinOf(bob2.Conn), "bob2's join at bob");
        Assert.Equal(1 + aliceLate, atBob.Concat(await bob.DrainAsync(TimeSpan.FromMilliseconds(100))).OfType<PresenceDiffMessage>().Count());

        // Carol's node holds no member of the room: it asks Redis.
        PresenceStateMessage presence = await carol.PresenceAsync("room");
        Assert.Equal(3, presence.Total);
        Assert.Equal(new[] { alice.Conn, bob.Conn, bob2.Conn }.Order(StringComparer.Ordinal), presence.Members.Select(m => m.Conn).Order(StringComparer.Ordinal));
        CountStateMessage count = await carol.CountAsync("room");
        Assert.Equal((3, 2), (count.Connections, count.Users));

        // Alice's node holds the room: it answers from its members and its replica of the others.
        PresenceStateMessage local = await alice.PresenceAsync("room");
        Assert.Equal(presence.Members.Conns(), local.Members.Conns());
        Assert.Equal((3L, 2L), ((await alice.CountAsync("room")).Connections, (await alice.CountAsync("room", 41)).Users));

        OnlineStateMessage online = await alice.OnlineAsync(["carol", "bob", "nobody", "alice"]);
        Assert.Equal(["carol", "bob", "alice"], online.Online);

        await carol.SendAsync(ClientFrames.Bye);
        await carol.ReadUntilClosedAsync();
        // Carol's node writes her offline to Redis after the close; bob's node answers from Redis.
        OnlineStateMessage after = await Eventually.ValueAsync(
            async () => await bob.OnlineAsync(["carol", "alice"]) is { } online && !online.Online.Contains("carol") ? online : null,
            "carol to be offline in the answer of bob's node");
        Assert.Equal(["alice"], after.Online);
    }

    [Fact]
    public async Task Joiner_on_a_third_node_sees_everyone_and_everyone_sees_it()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 3);
        var clients = new List<TestClient>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                TestClient client = await cluster[i].HelloAsync("u" + i);
                clients.Add(client);
                JoinedMessage joined = await client.JoinAsync("party");
                // Normally every earlier member is in the JOINED. When the new node's first read of the room timed out
                // (redis_timeout, on a loaded machine), the room opens with what the node knows and its resync sends
                // the rest as join diffs right after (docs/cluster.md). Either way each member shows once.
                var seen = joined.Members.Select(m => m.Conn).ToList();
                while (seen.Count < i + 1) seen.AddRange((await client.ExpectAsync<PresenceDiffMessage>()).Joins.Select(m => m.Conn));
                Assert.Equal(clients.Select(c => c.Conn).Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
                for (int j = 0; j < i; j++) Assert.Equal(client.Conn, Assert.Single((await clients[j].ExpectAsync<PresenceDiffMessage>()).Joins).Conn);
            }
            Assert.IsType<OkMessage>(await clients[2].PublishAsync("party", [42]));
            Assert.Equal([42], (await clients[0].ExpectAsync<RoomMessage>()).Payload);
            Assert.Equal([42], (await clients[1].ExpectAsync<RoomMessage>()).Payload);
        }
        finally
        {
            foreach (TestClient client in clients) await client.DisposeAsync();
        }
    }
}

[Collection(SingleRedis.Collection)]
public sealed class CrossNodeTestsOnSingleRedis(SingleRedis redis) : CrossNodeTests(redis);

[Collection(SentinelRedis.Collection)]
public sealed class CrossNodeTestsOnSentinel(SentinelRedis redis) : CrossNodeTests(redis);

[Collection(ClusterRedis.Collection)]
public sealed class CrossNodeTestsOnRedisCluster(ClusterRedis redis) : CrossNodeTests(redis);
