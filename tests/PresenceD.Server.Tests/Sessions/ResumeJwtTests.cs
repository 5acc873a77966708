using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Tests.Dispatch;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Sessions;

/// <summary>
/// Resumes under auth jwt, over real sockets (docs/protocol.md, "Resumable sessions"): the resuming HELLO's token must
/// be valid and for the session's user; its rooms claim then applies as REFRESH's does (the rooms it no longer allows
/// are left: the others see the leave, the will is discarded, WELCOME names them) and its exp ends the session.
/// </summary>
public sealed class ResumeJwtTests : IAsyncLifetime
{
    private const string Secret = "test-secret-of-some-length";
    private static readonly TimeSpan KeepAlive = TimeSpan.FromMilliseconds(100);
    private readonly string _secretFile = Path.GetTempFileName();
    private TestServer _server = null!;

    public Task InitializeAsync()
    {
        File.WriteAllText(_secretFile, Secret);
        _server = TestServer.StartWithDiagnostics(o =>
        {
            o.Auth = AuthMode.Jwt;
            o.JwtSecretFile = _secretFile;
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
            o.HeartbeatTimeout = TimeSpan.FromMilliseconds(800);
            o.ResumeWindow = TimeSpan.FromSeconds(30);
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        File.Delete(_secretFile);
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static string Token(string sub, long exp, string[] rooms, string secret = Secret) => JwtAuthTests.Token(new { sub, exp, rooms }, secret: secret);

    private static string Text(RoomMessage m) => System.Text.Encoding.UTF8.GetString(m.Payload);

    /// <summary>A watcher in rooms a and b; alice (resumable, with a will in each) joined both, then dropped and is suspended.</summary>
    private async Task<(TestClient Watcher, TestClient Alice)> SuspendedAliceAsync()
    {
        TestClient watcher = await TestClient.HelloAsync(_server.EndPoint, Token("watcher", Now + 600, ["*"]), keepAlive: KeepAlive);
        TestClient alice = await TestClient.HelloAsync(_server.EndPoint, Token("alice", Now + 600, ["a", "b"]), keepAlive: KeepAlive, resume: "");
        foreach (string room in new[] { "a", "b" })
        {
            await watcher.SendAsync(f => ClientFrames.Join(f, 2, room));
            await watcher.ExpectAsync<JoinedMessage>();
            await alice.SendAsync(f => ClientFrames.Join(f, 3, room, default, hasMeta: false, will: "gone"u8, hasWill: true));
            await alice.ExpectAsync<JoinedMessage>();
            await watcher.ExpectAsync<PresenceDiffMessage>();
        }
        long before = _server.Server.ResumeCounters.Suspended;
        alice.Abort();
        await Eventually.TrueAsync(() => _server.Server.ResumeCounters.Suspended > before, "alice suspended");
        return (watcher, alice);
    }

    [Fact]
    public async Task A_resume_whose_new_token_no_longer_allows_a_room_leaves_it_as_refresh_does_and_welcome_names_it()
    {
        (TestClient watcher, TestClient alice) = await SuspendedAliceAsync();
        await using (watcher)
        {
            await watcher.SendAsync(f => ClientFrames.Publish(f, 4, "b", "held-b"u8));
            await watcher.ExpectAsync<OkMessage>();
            await watcher.SendAsync(f => ClientFrames.Publish(f, 5, "a", "held-a"u8));
            await watcher.ExpectAsync<OkMessage>();

            await using TestClient back = await TestClient.HelloAsync(_server.EndPoint, Token("alice", Now + 600, ["a"]), keepAlive: KeepAlive,
                resume: alice.Welcome!.ResumeToken);
            Assert.True(back.Welcome!.Resumed);
            Assert.Equal(alice.Conn, back.Welcome.Conn);
            Assert.Equal(["b"], back.Welcome.Left);
            Assert.Equal(0u, back.Welcome.Features);
            // The held frames follow WELCOME in order, those of b (sent before the leave) too.
            Assert.Equal(("b", "held-b"), ((await back.ExpectAsync<RoomMessage>()) is var m1 ? (m1.Room, Text(m1)) : default));
            Assert.Equal(("a", "held-a"), ((await back.ExpectAsync<RoomMessage>()) is var m2 ? (m2.Room, Text(m2)) : default));

            // The watcher sees alice leave b, without her will (as LEAVE), and nothing in a.
            PresenceDiffMessage leave = await watcher.ExpectAsync<PresenceDiffMessage>();
            Assert.Equal("b", leave.Room);
            Assert.Equal(alice.Conn, Assert.Single(leave.Leaves).Conn);
            await watcher.SendAsync(f => ClientFrames.Ping(f, 6));
            Assert.Equal(6u, (await watcher.ExpectAsync<PongMessage>()).Rid);

            // Alice is still in a (a message there reaches her), and b is closed to her token.
            await watcher.SendAsync(f => ClientFrames.Publish(f, 7, "a", "live"u8));
            await watcher.ExpectAsync<OkMessage>();
            Assert.Equal("live", Text(await back.ExpectAsync<RoomMessage>()));
            await back.SendAsync(f => ClientFrames.Presence(f, 8, "b"));
            ErrorMessage refused = await back.ExpectAsync<ErrorMessage>();
            Assert.Equal((8u, ErrorCode.Forbidden), (refused.Rid, refused.Code));
            await _server.Log.WaitForAsync(TimeSpan.FromSeconds(10), alice.Conn, "resumed from", "left 1 rooms");
        }
    }

    [Fact]
    public async Task A_resume_that_keeps_every_room_sends_no_left_element()
    {
        (TestClient watcher, TestClient alice) = await SuspendedAliceAsync();
        await using (watcher)
        {
            await using TestClient back = await TestClient.HelloAsync(_server.EndPoint, Token("alice", Now + 600, ["a", "b"]),
                resume: alice.Welcome!.ResumeToken, features: ProtocolFeatures.Refresh);
            Assert.True(back.Welcome!.Resumed);
            Assert.Null(back.Welcome.Left);
            Assert.Equal(ProtocolFeatures.Refresh, back.Welcome.Features);
            await watcher.SendAsync(f => ClientFrames.Ping(f, 6));
            Assert.Equal(6u, (await watcher.ExpectAsync<PongMessage>()).Rid);
        }
    }

    [Fact]
    public async Task A_resume_ends_the_session_at_the_new_tokens_exp()
    {
        (TestClient watcher, TestClient alice) = await SuspendedAliceAsync();
        await using (watcher)
        {
            await using TestClient back = await TestClient.HelloAsync(_server.EndPoint, Token("alice", Now + 1, ["a", "b"]), keepAlive: KeepAlive,
                resume: alice.Welcome!.ResumeToken);
            Assert.True(back.Welcome!.Resumed);
            GoAwayMessage end = Assert.IsType<GoAwayMessage>(Assert.Single(await back.ReadUntilClosedAsync(TimeSpan.FromSeconds(10))));
            Assert.Equal((ErrorCode.Auth, "token expired"), (end.Code, end.Text));
            // Token expiry ends the session at once (it is not suspended): its wills, then its leaves.
            Assert.Equal("gone", Text(await watcher.ExpectAsync<RoomMessage>()));
        }
    }

    [Fact]
    public async Task A_resume_with_a_refused_token_is_refused_as_hello_and_the_session_stays_resumable_another_users_token_gets_a_fresh_session()
    {
        (TestClient watcher, TestClient alice) = await SuspendedAliceAsync();
        await using (watcher)
        {
            string resume = alice.Welcome!.ResumeToken;
            foreach (string bad in new[] { Token("alice", Now + 600, ["a"], secret: "another-secret-entirely"), Token("alice", Now - 3600, ["a"]) })
            {
                await using TestClient refused = await TestClient.ConnectAsync(_server.EndPoint);
                await refused.SendAsync(f => ClientFrames.Hello(f, 1, bad, "tests", resume: resume));
                List<ServerMessage> end = await refused.ReadUntilClosedAsync(TimeSpan.FromSeconds(10));
                Assert.Equal(ErrorCode.Auth, Assert.IsType<ErrorMessage>(end[0]).Code);
            }
            await using TestClient mallory = await TestClient.HelloAsync(_server.EndPoint, Token("mallory", Now + 600, ["*"]), resume: resume);
            Assert.False(mallory.Welcome!.Resumed);
            Assert.NotEqual(alice.Conn, mallory.Welcome.Conn);

            await using TestClient back = await TestClient.HelloAsync(_server.EndPoint, Token("alice", Now + 600, ["a", "b"]), resume: resume);
            Assert.True(back.Welcome!.Resumed);
            Assert.Equal(alice.Conn, back.Welcome.Conn);
            await watcher.SendAsync(f => ClientFrames.Ping(f, 6));
            Assert.Equal(6u, (await watcher.ExpectAsync<PongMessage>()).Rid);
        }
    }
}
