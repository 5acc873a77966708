using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Connections;

public sealed class ConnectionEndTests : IAsyncLifetime
{
    /// <summary>Well inside the 600 ms heartbeat timeout: the watcher stays connected while it waits.</summary>
    private static readonly TimeSpan KeepAlive = TimeSpan.FromMilliseconds(100);

    private TestServer _server = null!;

    public Task InitializeAsync()
    {
        _server = TestServer.Start(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
            // Well above the watcher's 100 ms pings on a loaded two-core machine (run 12 of a clean loop saw the watcher time out at 600 ms).
            o.HeartbeatTimeout = TimeSpan.FromMilliseconds(1500);
            o.MaxFrame = 1024;
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(TestClient Watcher, TestClient Leaver)> PairAsync(string room, byte[]? will)
    {
        TestClient watcher = await _server.HelloAsync("watcher", KeepAlive);
        TestClient leaver = await _server.HelloAsync("leaver");
        await watcher.SendAsync(f => ClientFrames.Join(f, 1, room));
        await watcher.ExpectAsync<JoinedMessage>();
        await leaver.SendAsync(f => ClientFrames.Join(f, 1, room, will: will, hasWill: will is not null));
        await leaver.ExpectAsync<JoinedMessage>();
        await watcher.ExpectAsync<PresenceDiffMessage>();
        return (watcher, leaver);
    }

    /// <summary>The watcher's next frame (its keep-alive PONGs are hidden), which must not be the close.</summary>
    private static async Task<ServerMessage> NextNonPongAsync(TestClient client) =>
        await client.ReceiveAsync() ?? throw new Xunit.Sdk.XunitException("watcher was closed");

    [Fact]
    public async Task Silent_connection_times_out_its_will_then_one_leave_diff_reach_the_room()
    {
        (TestClient watcher, TestClient leaver) = await PairAsync("hb", [0xDE, 0xAD]);
        await using (watcher)
        await using (leaver)
        {
            RoomMessage will = Assert.IsType<RoomMessage>(await NextNonPongAsync(watcher));
            Assert.Equal([0xDE, 0xAD], will.Payload);
            Assert.Equal(leaver.Conn, will.FromConn);
            PresenceDiffMessage diff = Assert.IsType<PresenceDiffMessage>(await NextNonPongAsync(watcher));
            Assert.Equal(leaver.Conn, Assert.Single(diff.Leaves).Conn);
            List<ServerMessage> last = await leaver.ReadUntilClosedAsync();
            Assert.Equal(ErrorCode.Timeout, Assert.IsType<GoAwayMessage>(Assert.Single(last)).Code);
        }
    }

    [Fact]
    public async Task Pings_keep_a_connection_alive_past_the_timeout()
    {
        await using TestClient client = await _server.HelloAsync("pinger");
        for (int i = 0; i < 12; i++)
        {
            // The delay is the test: 12 gaps of 100 ms between pings span twice the 600 ms heartbeat timeout.
            await Task.Delay(100);
            await client.SendAsync(f => ClientFrames.Ping(f, 1));
            ServerMessage? pong = await client.ReceiveAsync();
            Assert.True(pong is PongMessage, $"after {i} pings: {pong}");
        }
    }

    [Fact]
    public async Task Broken_connection_delivers_its_will_once_then_leaves()
    {
        (TestClient watcher, TestClient leaver) = await PairAsync("broken", [7]);
        await using (watcher)
        {
            leaver.Abort();
            Assert.Equal([7], Assert.IsType<RoomMessage>(await NextNonPongAsync(watcher)).Payload);
            Assert.Single(Assert.IsType<PresenceDiffMessage>(await NextNonPongAsync(watcher)).Leaves);
            await watcher.SendAsync(f => ClientFrames.Count(f, 5, "broken"));
            Assert.Equal(1, (await watcher.ExpectAsync<CountStateMessage>()).Connections);
        }
    }

    [Fact]
    public async Task Bye_discards_the_will_and_leaves_at_once()
    {
        (TestClient watcher, TestClient leaver) = await PairAsync("bye", [9]);
        await using (watcher)
        await using (leaver)
        {
            await leaver.SendAsync(ClientFrames.Bye);
            Assert.Empty(await leaver.ReadUntilClosedAsync());
            PresenceDiffMessage diff = Assert.IsType<PresenceDiffMessage>(await NextNonPongAsync(watcher));
            Assert.Equal(leaver.Conn, Assert.Single(diff.Leaves).Conn);
        }
    }

    [Fact]
    public async Task Leave_discards_the_will()
    {
        (TestClient watcher, TestClient leaver) = await PairAsync("leave-will", [9]);
        await using (watcher)
        {
            await leaver.SendAsync(f => ClientFrames.Leave(f, 2, "leave-will"));
            await leaver.ExpectAsync<OkMessage>();
            Assert.IsType<PresenceDiffMessage>(await NextNonPongAsync(watcher));
            leaver.Abort();
            // The server ended the leaver's session once its user is offline; a will would have been queued to the
            // watcher before that (so before the ONLINE answer that shows it, which must come first).
            await Eventually.TrueAsync(async () =>
            {
                await watcher.SendAsync(f => ClientFrames.Online(f, 78, ["leaver"]));
                return (await watcher.ExpectAsync<OnlineStateMessage>()).Online.Count == 0;
            }, "the aborted leaver to go offline", TimeSpan.FromSeconds(5));
            await watcher.SendAsync(f => ClientFrames.Ping(f, 77));
            Assert.Equal(77u, (await watcher.ExpectAsync<PongMessage>()).Rid); // no will arrived before the pong
        }
    }

    [Fact]
    public async Task Malformed_frame_closes_only_that_connection()
    {
        (TestClient watcher, TestClient bad) = await PairAsync("malformed", null);
        await using (watcher)
        await using (bad)
        {
            await bad.SendBodyAsync([0x93, 0x04, 0x00, 0xc3]); // PUBLISH with a bool for a room
            List<ServerMessage> last = await bad.ReadUntilClosedAsync();
            Assert.Equal(ErrorCode.Protocol, Assert.IsType<ErrorMessage>(last[0]).Code);
            Assert.Equal(0u, ((ErrorMessage)last[0]).Rid);
            Assert.Equal(ErrorCode.Protocol, Assert.IsType<GoAwayMessage>(last[1]).Code);
            Assert.Single(Assert.IsType<PresenceDiffMessage>(await NextNonPongAsync(watcher)).Leaves);
        }
    }

    [Fact]
    public async Task Frame_over_max_frame_is_refused_from_its_length_alone()
    {
        await using TestClient watcher = await _server.HelloAsync("w");
        await using TestClient big = await _server.HelloAsync("big");
        await big.SendRawAsync(new byte[] { 0, 0, 0x04, 0x01 }); // declares 1025 bytes, sends none
        List<ServerMessage> last = await big.ReadUntilClosedAsync();
        Assert.Equal(ErrorCode.Protocol, Assert.IsType<ErrorMessage>(last[0]).Code);
        Assert.Equal(ErrorCode.Protocol, Assert.IsType<GoAwayMessage>(last[1]).Code);
        await watcher.SendAsync(f => ClientFrames.Ping(f, 3));
        Assert.Equal(3u, (await watcher.ExpectAsync<PongMessage>()).Rid);
    }

    [Fact]
    public async Task Slow_consumer_is_closed_without_stalling_the_others()
    {
        // Its own server with the default heartbeat: the readers here send nothing for seconds on a busy machine.
        await using TestServer server = TestServer.Start(o => o.SendQueueLimit = 256 * 1024);
        await using TestClient slow = await server.HelloAsync("slow");
        await using TestClient fast = await server.HelloAsync("fast");
        await using TestClient sender = await server.HelloAsync("sender");
        foreach (TestClient c in new[] { slow, fast, sender })
        {
            await c.SendAsync(f => ClientFrames.Join(f, 1, "flood"));
            await c.ExpectAsync<JoinedMessage>();
        }
        await fast.ExpectAsync<PresenceDiffMessage>(); // sender joined
        var payload = new byte[900];
        int got = 0;
        for (int batch = 0; batch < 200; batch++)
        {
            await sender.SendAsync(f =>
            {
                for (int i = 0; i < 50; i++) ClientFrames.Publish(f, 0, "flood", payload);
            });
            // The fast reader keeps up batch by batch, so only the slow one falls behind.
            while (got < (batch + 1) * 50)
            {
                ServerMessage? m = await fast.ReceiveAsync();
                if (m is RoomMessage) got++;
                else if (m is null) throw new Xunit.Sdk.XunitException("fast reader was closed");
            }
        }
        Assert.Equal(10000, got);
        // The slow client never read: its queue passed 64 KiB long ago, so the server closed it with GOAWAY.
        List<ServerMessage> frames = await slow.ReadUntilClosedAsync();
        Assert.Equal(ErrorCode.SlowConsumer, Assert.IsType<GoAwayMessage>(frames[^1]).Code);
        Assert.True(server.Server.Connections.Counters.Closes(PresenceD.Server.Connections.CloseReason.SlowConsumer) >= 1);
    }
}
