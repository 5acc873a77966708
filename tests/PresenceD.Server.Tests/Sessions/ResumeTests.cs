using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Sessions;

/// <summary>
/// Resumable sessions on one node, over real sockets (docs/protocol.md, "Resumable sessions"): a dropped connection
/// that comes back within resume_window with its token causes no diff, no will and no lost message; every other
/// case ends the session the normal way and the HELLO gets a fresh one.
/// </summary>
public sealed class ResumeTests
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromMilliseconds(100);

    private static TestServer Start(Action<ServerOptions>? configure = null) => TestServer.StartWithDiagnostics(o =>
    {
        o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
        o.HeartbeatTimeout = TimeSpan.FromMilliseconds(800);
        o.ResumeWindow = TimeSpan.FromSeconds(30);
        configure?.Invoke(o);
    });

    /// <summary>A watcher and alice (resumable, with a will) in <paramref name="room"/>; the watcher saw alice's join.</summary>
    private static async Task<(TestClient Watcher, TestClient Alice)> PairAsync(TestServer server, string room)
    {
        TestClient watcher = await TestClient.HelloAsync(server.EndPoint, "watcher", keepAlive: KeepAlive);
        TestClient alice = await TestClient.HelloAsync(server.EndPoint, "alice", keepAlive: KeepAlive, resume: "");
        await watcher.SendAsync(b => ClientFrames.Join(b, 2, room));
        await watcher.ExpectAsync<JoinedMessage>();
        await alice.SendAsync(b => ClientFrames.Join(b, 2, room, "m1"u8, hasMeta: true, will: "gone"u8, hasWill: true));
        await alice.ExpectAsync<JoinedMessage>();
        await watcher.ExpectAsync<PresenceDiffMessage>();
        return (watcher, alice);
    }

    private static async Task DropAsync(TestServer server, TestClient client, bool reset, long suspendedBefore)
    {
        if (reset) client.Abort();
        else await client.DisposeAsync();
        await Eventually.TrueAsync(() => server.Server.ResumeCounters.Suspended > suspendedBefore, "the session suspended");
    }

    private static async Task PublishAsync(TestClient from, string room, int count, string prefix)
    {
        for (int i = 0; i < count; i++)
        {
            int n = i;
            await from.SendAsync(b => ClientFrames.Publish(b, (uint)(100 + n), room, System.Text.Encoding.UTF8.GetBytes(prefix + n)));
            await from.ExpectAsync<OkMessage>();
        }
    }

    private static string Text(RoomMessage m) => System.Text.Encoding.UTF8.GetString(m.Payload);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_dropped_member_resumes_with_its_conn_rooms_and_every_held_message_in_order_once_and_nobody_sees_a_diff(bool reset)
    {
        await using TestServer server = Start();
        (TestClient watcher, TestClient alice) = await PairAsync(server, "r");
        await using (watcher)
        {
            WelcomeMessage first = alice.Welcome!;
            Assert.NotEqual("", first.ResumeToken);
            Assert.Equal(30_000, first.ResumeWindowMs);
            Assert.False(first.Resumed);
            await DropAsync(server, alice, reset, 0);

            await PublishAsync(watcher, "r", 20, "away-");
            await using TestClient back = await TestClient.HelloAsync(server.EndPoint, "alice", keepAlive: KeepAlive, resume: first.ResumeToken);
            Assert.True(back.Welcome!.Resumed);
            Assert.Equal(first.Conn, back.Welcome.Conn);
            Assert.NotEqual(first.ResumeToken, back.Welcome.ResumeToken);
            for (int i = 0; i < 20; i++) Assert.Equal("away-" + i, Text(await back.ExpectAsync<RoomMessage>()));

            // Live again: a new message comes after the held ones, once; the room, meta and membership are the old ones.
            await PublishAsync(watcher, "r", 1, "new-");
            Assert.Equal("new-0", Text(await back.ExpectAsync<RoomMessage>()));
            await back.SendAsync(b => ClientFrames.Update(b, 5, "r", "m2"u8, true));
            await back.ExpectAsync<OkMessage>();
            // The watcher's very next frame is the update diff: no leave, no will, no join came before it.
            PresenceDiffMessage update = await watcher.ExpectAsync<PresenceDiffMessage>();
            Assert.Equal(first.Conn, Assert.Single(update.Leaves).Conn);
            Assert.Equal("m1"u8.ToArray(), update.Leaves[0].Meta);
            Assert.Equal("m2"u8.ToArray(), Assert.Single(update.Joins).Meta);
            Assert.Equal(1, server.Server.ResumeCounters.Resumed);
            Assert.Equal(0, server.Server.ResumeCounters.Expired);
            await server.Log.WaitForAsync(TimeSpan.FromSeconds(10), first.Conn, "resumed from");
        }
    }

    [Fact]
    public async Task After_the_window_the_session_ends_with_its_will_then_its_leave_and_the_token_gets_a_fresh_session()
    {
        await using TestServer server = Start(o => o.ResumeWindow = TimeSpan.FromMilliseconds(300));
        (TestClient watcher, TestClient alice) = await PairAsync(server, "w");
        await using (watcher)
        {
            string token = alice.Welcome!.ResumeToken;
            string conn = alice.Conn;
            alice.Abort();
            RoomMessage will = await watcher.ExpectAsync<RoomMessage>();
            Assert.Equal("gone", Text(will));
            Assert.Equal(conn, Assert.Single((await watcher.ExpectAsync<PresenceDiffMessage>()).Leaves).Conn);
            await Eventually.TrueAsync(() => server.Server.ResumeCounters.Expired == 1, "the expiry counted");

            await using TestClient late = await TestClient.HelloAsync(server.EndPoint, "alice", resume: token);
            Assert.False(late.Welcome!.Resumed);
            Assert.NotEqual(conn, late.Welcome.Conn);
            Assert.NotEqual("", late.Welcome.ResumeToken);
        }
    }

    [Fact]
    public async Task A_resumed_session_keeps_its_will_the_next_unresumed_drop_delivers_it_then_the_leave()
    {
        await using TestServer server = Start(o => o.ResumeWindow = TimeSpan.FromSeconds(3));
        (TestClient watcher, TestClient alice) = await PairAsync(server, "kw");
        await using (watcher)
        {
            await DropAsync(server, alice, reset: true, 0);
            TestClient back = await TestClient.HelloAsync(server.EndPoint, "alice", resume: alice.Welcome!.ResumeToken);
            Assert.True(back.Welcome!.Resumed);
            back.Abort();
            // resume_window later: the will JOIN gave on the first connection, then the one leave.
            Assert.Equal("gone", Text(await watcher.ExpectAsync<RoomMessage>()));
            Assert.Equal(alice.Conn, Assert.Single((await watcher.ExpectAsync<PresenceDiffMessage>()).Leaves).Conn);
        }
    }

    [Fact]
    public async Task A_forged_token_or_another_users_token_gets_a_fresh_session_and_the_owner_still_resumes()
    {
        await using TestServer server = Start();
        (TestClient watcher, TestClient alice) = await PairAsync(server, "f");
        await using (watcher)
        {
            string token = alice.Welcome!.ResumeToken;
            await DropAsync(server, alice, reset: true, 0);

            await using TestClient forged = await TestClient.HelloAsync(server.EndPoint, "alice", resume: "AAAAAAAAAAAAAAAAAAAAAA." + alice.Conn);
            Assert.False(forged.Welcome!.Resumed);
            Assert.NotEqual(alice.Conn, forged.Welcome.Conn);
            await using TestClient mallory = await TestClient.HelloAsync(server.EndPoint, "mallory", resume: token);
            Assert.False(mallory.Welcome!.Resumed);
            Assert.Equal("mallory", mallory.Welcome.User);

            await using TestClient back = await TestClient.HelloAsync(server.EndPoint, "alice", resume: token);
            Assert.True(back.Welcome!.Resumed);
            Assert.Equal(alice.Conn, back.Welcome.Conn);
        }
    }

    [Fact]
    public async Task Two_resumes_at_once_exactly_one_wins_and_the_other_gets_a_fresh_session()
    {
        await using TestServer server = Start();
        (TestClient watcher, TestClient alice) = await PairAsync(server, "race");
        await using (watcher)
        {
            string token = alice.Welcome!.ResumeToken;
            await DropAsync(server, alice, reset: true, 0);
            TestClient[] racers = await Task.WhenAll(
                TestClient.HelloAsync(server.EndPoint, "alice", resume: token),
                TestClient.HelloAsync(server.EndPoint, "alice", resume: token));
            try
            {
                Assert.Single(racers, r => r.Welcome!.Resumed && r.Welcome.Conn == alice.Conn);
                Assert.Single(racers, r => !r.Welcome!.Resumed && r.Welcome.Conn != alice.Conn);
                Assert.Equal(1, server.Server.ResumeCounters.Resumed);
            }
            finally
            {
                foreach (TestClient racer in racers) await racer.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Held_frames_past_resume_buffer_end_the_session_the_normal_way_and_the_token_gets_a_fresh_session()
    {
        await using TestServer server = Start(o => o.ResumeBuffer = 1024);
        (TestClient watcher, TestClient alice) = await PairAsync(server, "o");
        await using (watcher)
        {
            string token = alice.Welcome!.ResumeToken;
            await DropAsync(server, alice, reset: true, 0);
            byte[] payload = new byte[400];
            for (int i = 0; i < 3; i++)
            {
                await watcher.SendAsync(b => ClientFrames.Publish(b, 0, "o", payload));
            }
            Assert.Equal("gone", Text(await watcher.ExpectAsync<RoomMessage>()));
            Assert.Equal(alice.Conn, Assert.Single((await watcher.ExpectAsync<PresenceDiffMessage>()).Leaves).Conn);
            Assert.Equal(1, server.Server.ResumeCounters.Overflowed);

            await using TestClient back = await TestClient.HelloAsync(server.EndPoint, "alice", resume: token);
            Assert.False(back.Welcome!.Resumed);
        }
    }

    [Fact]
    public async Task Bye_is_never_resumed()
    {
        await using TestServer server = Start();
        (TestClient watcher, TestClient alice) = await PairAsync(server, "bye");
        await using (watcher)
        {
            string token = alice.Welcome!.ResumeToken;
            await alice.SendAsync(b => ClientFrames.Bye(b));
            // BYE discards the will: the leave diff is the watcher's next frame.
            Assert.Equal(alice.Conn, Assert.Single((await watcher.ExpectAsync<PresenceDiffMessage>()).Leaves).Conn);
            await alice.DisposeAsync();
            await using TestClient back = await TestClient.HelloAsync(server.EndPoint, "alice", resume: token);
            Assert.False(back.Welcome!.Resumed);
            Assert.Equal(0, server.Server.ResumeCounters.Suspended);
        }
    }

    [Fact]
    public async Task A_resume_while_the_old_connection_is_still_open_takes_it_over_and_closes_it_with_superseded()
    {
        await using TestServer server = Start();
        (TestClient watcher, TestClient alice) = await PairAsync(server, "live");
        await using (watcher)
        await using (alice)
        {
            await using TestClient back = await TestClient.HelloAsync(server.EndPoint, "alice", resume: alice.Welcome!.ResumeToken);
            Assert.True(back.Welcome!.Resumed);
            Assert.Equal(alice.Conn, back.Welcome.Conn);
            List<ServerMessage> last = await alice.ReadUntilClosedAsync();
            Assert.Equal(ErrorCode.Superseded, Assert.IsType<GoAwayMessage>(Assert.Single(last)).Code);
            await PublishAsync(watcher, "live", 1, "after-");
            Assert.Equal("after-0", Text(await back.ExpectAsync<RoomMessage>()));
        }
    }

    [Fact]
    public async Task A_heartbeat_timeout_suspends_too()
    {
        await using TestServer server = Start();
        (TestClient watcher, TestClient alice) = await PairAsync(server, "hb");
        await using (watcher)
        await using (alice)
        {
            await alice.StopPingingAsync();
            await Eventually.TrueAsync(() => server.Server.ResumeCounters.Suspended == 1, "the silent session suspended");
            await PublishAsync(watcher, "hb", 3, "x");
            await using TestClient back = await TestClient.HelloAsync(server.EndPoint, "alice", resume: alice.Welcome!.ResumeToken);
            Assert.True(back.Welcome!.Resumed);
            for (int i = 0; i < 3; i++) Assert.Equal("x" + i, Text(await back.ExpectAsync<RoomMessage>()));
        }
    }

    [Fact]
    public async Task With_resume_window_0_a_hello_asking_for_it_gets_no_token_and_an_old_hello_gets_the_old_welcome()
    {
        await using TestServer server = Start(o => o.ResumeWindow = TimeSpan.Zero);
        await using TestClient asking = await TestClient.HelloAsync(server.EndPoint, "alice", resume: "");
        Assert.Equal(("", 0L, false), (asking.Welcome!.ResumeToken, asking.Welcome.ResumeWindowMs, asking.Welcome.Resumed));
        await using TestClient old = await TestClient.HelloAsync(server.EndPoint, "bob");
        Assert.Equal("", old.Welcome!.ResumeToken);
    }
}
