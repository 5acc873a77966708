using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Fanout;

public sealed class PublishTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public Task InitializeAsync()
    {
        _server = TestServer.Start(o =>
        {
            o.HistoryRooms = "chat:*";
            o.HistorySize = 5;
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task<JoinedMessage> JoinAsync(TestClient client, string room, string? epoch = null, ulong offset = 0)
    {
        await client.SendAsync(f => ClientFrames.Join(f, 1, room, sinceEpoch: epoch, sinceOffset: offset));
        return await client.ExpectAsync<JoinedMessage>();
    }

    [Fact]
    public async Task Message_reaches_other_members_and_the_same_users_other_connection_but_not_the_sender()
    {
        await using TestClient sender = await _server.HelloAsync("alice");
        await using TestClient sameUser = await _server.HelloAsync("alice");
        await using TestClient other = await _server.HelloAsync("bob");
        await JoinAsync(sender, "p");
        await JoinAsync(sameUser, "p");
        await sender.ExpectAsync<PresenceDiffMessage>();
        await JoinAsync(other, "p");
        await sender.ExpectAsync<PresenceDiffMessage>();
        await sameUser.ExpectAsync<PresenceDiffMessage>();

        await sender.SendAsync(f => ClientFrames.Publish(f, 11, "p", [1, 2, 3]));
        Assert.Equal(11u, (await sender.ExpectAsync<OkMessage>()).Rid);
        foreach (TestClient receiver in new[] { sameUser, other })
        {
            RoomMessage message = await receiver.ExpectAsync<RoomMessage>();
            Assert.Equal(("p", "alice", sender.Conn, 0ul), (message.Room, message.FromUser, message.FromConn, message.Offset));
            Assert.Equal([1, 2, 3], message.Payload);
        }
        await sender.SendAsync(f => ClientFrames.Publish(f, 0, "p", [4]));
        Assert.Equal([4], (await other.ExpectAsync<RoomMessage>()).Payload);
        Assert.True(await sender.NothingWithinAsync(TimeSpan.FromMilliseconds(150)));
    }

    [Fact]
    public async Task Messages_arrive_in_publish_order()
    {
        await using TestClient sender = await _server.HelloAsync("alice");
        await using TestClient receiver = await _server.HelloAsync("bob");
        await JoinAsync(receiver, "order");
        await JoinAsync(sender, "order");
        await receiver.ExpectAsync<PresenceDiffMessage>();
        await sender.SendAsync(f =>
        {
            for (int i = 0; i < 500; i++) ClientFrames.Publish(f, 0, "order", BitConverter.GetBytes(i));
        });
        for (int i = 0; i < 500; i++) Assert.Equal(i, BitConverter.ToInt32((await receiver.ExpectAsync<RoomMessage>()).Payload));
    }

    [Fact]
    public async Task History_offsets_increase_and_since_replays_exactly_the_missed_messages_before_new_ones()
    {
        await using TestClient sender = await _server.HelloAsync("alice");
        await using TestClient reader = await _server.HelloAsync("bob");
        JoinedMessage joined = await JoinAsync(reader, "chat:1");
        Assert.NotEqual("", joined.Epoch);
        Assert.Equal(0ul, joined.Offset);
        await JoinAsync(sender, "chat:1");
        await reader.ExpectAsync<PresenceDiffMessage>();
        for (int i = 1; i <= 3; i++)
        {
            int n = i;
            await sender.SendAsync(f => ClientFrames.Publish(f, 0, "chat:1", [(byte)n]));
            Assert.Equal((ulong)n, (await reader.ExpectAsync<RoomMessage>()).Offset);
        }
        await reader.DisposeAsync();
        await sender.ExpectAsync<PresenceDiffMessage>(); // reader left
        for (int i = 4; i <= 6; i++)
        {
            int n = i;
            await sender.SendAsync(f => ClientFrames.Publish(f, 0, "chat:1", [(byte)n]));
        }
        await sender.SendAsync(f => ClientFrames.Ping(f, 99));
        await sender.ExpectAsync<PongMessage>();

        await using TestClient back = await _server.HelloAsync("bob");
        JoinedMessage rejoined = await JoinAsync(back, "chat:1", joined.Epoch, 3);
        Assert.True(rejoined.Recovered);
        Assert.Equal(6ul, rejoined.Offset);
        for (int i = 4; i <= 6; i++)
        {
            RoomMessage replayed = await back.ExpectAsync<RoomMessage>();
            Assert.Equal(((ulong)i, (byte)i), (replayed.Offset, replayed.Payload[0]));
        }
        await sender.ExpectAsync<PresenceDiffMessage>();
        await sender.SendAsync(f => ClientFrames.Publish(f, 0, "chat:1", [7]));
        Assert.Equal(7ul, (await back.ExpectAsync<RoomMessage>()).Offset);
    }

    [Fact]
    public async Task Since_with_a_wrong_epoch_or_evicted_offset_is_not_recovered()
    {
        await using TestClient sender = await _server.HelloAsync("alice");
        JoinedMessage joined = await JoinAsync(sender, "chat:2");
        for (int i = 0; i < 8; i++) await sender.SendAsync(f => ClientFrames.Publish(f, 0, "chat:2", [1]));
        await sender.SendAsync(f => ClientFrames.Ping(f, 1));
        await sender.ExpectAsync<PongMessage>();

        await using TestClient a = await _server.HelloAsync("bob");
        JoinedMessage wrongEpoch = await JoinAsync(a, "chat:2", "not-the-epoch", 7);
        Assert.False(wrongEpoch.Recovered);
        await using TestClient b = await _server.HelloAsync("carol");
        JoinedMessage evicted = await JoinAsync(b, "chat:2", joined.Epoch, 1); // history_size 5 holds 4..8 only
        Assert.False(evicted.Recovered);
        Assert.Equal(8ul, evicted.Offset);
        await using TestClient c = await _server.HelloAsync("dave");
        JoinedMessage kept = await JoinAsync(c, "chat:2", joined.Epoch, 3);
        Assert.True(kept.Recovered);
        for (ulong i = 4; i <= 8; i++) Assert.Equal(i, (await c.ExpectAsync<RoomMessage>()).Offset);
    }

    [Fact]
    public async Task Rate_limit_answers_rate_for_publishes_over_the_bucket()
    {
        await using TestServer limited = TestServer.Start(o => { o.PublishRate = 1; o.PublishBurst = 2; });
        await using TestClient sender = await limited.HelloAsync("alice");
        await sender.SendAsync(f => ClientFrames.Join(f, 1, "rl"));
        await sender.ExpectAsync<JoinedMessage>();
        await sender.SendAsync(f =>
        {
            for (uint i = 1; i <= 3; i++) ClientFrames.Publish(f, i, "rl", [1]);
        });
        Assert.IsType<OkMessage>(await sender.ReceiveAsync());
        Assert.IsType<OkMessage>(await sender.ReceiveAsync());
        ErrorMessage error = await sender.ExpectAsync<ErrorMessage>();
        Assert.Equal((3u, ErrorCode.Rate), (error.Rid, error.Code));
    }
}
