using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Dispatch;

/// <summary>
/// REFRESH over real sockets: a new token for the session's user moves its expiry and narrows its rooms (leave diffs
/// to the others, the will discarded); every refusal leaves the session on the token it had, connection open.
/// </summary>
public sealed class TokenRefreshTests : IAsyncLifetime
{
    private const string Secret = "test-secret-of-some-length";
    private readonly string _secretFile = Path.GetTempFileName();
    private TestServer _server = null!;

    public Task InitializeAsync()
    {
        File.WriteAllText(_secretFile, Secret);
        _server = TestServer.StartWithDiagnostics(o =>
        {
            o.Auth = AuthMode.Jwt;
            o.JwtSecretFile = _secretFile;
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        File.Delete(_secretFile);
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static string Token(string sub, long exp, string[]? rooms = null, string secret = Secret) =>
        JwtAuthTests.Token(rooms is null ? new { sub, exp } : new { sub, exp, rooms }, secret: secret);

    private Task<TestClient> HelloAsync(string token) => TestClient.HelloAsync(_server.EndPoint, token, features: ProtocolFeatures.Refresh);

    [Fact]
    public async Task Welcome_announces_refresh_only_to_a_hello_that_sent_features()
    {
        await using TestClient asked = await HelloAsync(Token("alice", Now + 60));
        Assert.Equal(ProtocolFeatures.Refresh, asked.Welcome!.Features);
        Assert.Equal(("", 0L, false), (asked.Welcome.ResumeToken, asked.Welcome.ResumeWindowMs, asked.Welcome.Resumed));

        // Unknown bits are not echoed: the answer is what both sides know.
        await using TestClient future = await TestClient.HelloAsync(_server.EndPoint, Token("alice", Now + 60), features: 0xFFu);
        Assert.Equal(ProtocolFeatures.Refresh, future.Welcome!.Features);

        await using TestClient old = await TestClient.HelloAsync(_server.EndPoint, Token("alice", Now + 60));
        Assert.Equal(0u, old.Welcome!.Features);
    }

    [Fact]
    public async Task A_refreshed_session_outlives_its_old_exp_and_ends_at_the_new_one()
    {
        // Whole seconds, and Now may be at the end of its second: 3 s leave the HELLOs and the REFRESH time to land
        // before the old exp even on a loaded machine (with Now + 1 the old token could expire first).
        long oldExp = Now + 3;
        await using TestClient alice = await HelloAsync(Token("alice", oldExp));
        // The control holds a token one second later than alice's old one, so its GOAWAY comes after alice's old
        // deadline has passed (a deadline lands within the second after exp, whenever in its second HELLO came).
        await using TestClient control = await HelloAsync(Token("carol", oldExp + 1));
        long newExp = oldExp + 2;
        await alice.SendAsync(f => ClientFrames.Refresh(f, 5, Token("alice", newExp)));
        RefreshedMessage refreshed = await alice.ExpectAsync<RefreshedMessage>();
        Assert.Equal((5u, newExp), (refreshed.Rid, refreshed.Exp));
        Assert.Empty(refreshed.Left);

        List<ServerMessage> controlEnd = await control.ReadUntilClosedAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ErrorCode.Auth, Assert.IsType<GoAwayMessage>(Assert.Single(controlEnd)).Code);
        await alice.SendAsync(f => ClientFrames.Ping(f, 6));
        Assert.Equal(6u, (await alice.ExpectAsync<PongMessage>()).Rid);

        // The deadline moved, it was not cancelled: the new exp ends the session.
        GoAwayMessage end = Assert.IsType<GoAwayMessage>(Assert.Single(await alice.ReadUntilClosedAsync(TimeSpan.FromSeconds(10))));
        Assert.Equal((ErrorCode.Auth, "token expired"), (end.Code, end.Text));
        Assert.Equal((1L, 0L), (_server.Server.DispatchCounters.Refreshes, _server.Server.DispatchCounters.RefreshesRefused));
    }

    [Fact]
    public async Task Rooms_the_new_token_does_not_allow_are_left_with_a_leave_diff_and_no_will()
    {
        await using TestClient alice = await HelloAsync(Token("alice", Now + 60, ["lobby", "game:*"]));
        await using TestClient bob = await HelloAsync(Token("bob", Now + 60, ["*"]));
        await alice.SendAsync(f => ClientFrames.Join(f, 2, "lobby"));
        await alice.ExpectAsync<JoinedMessage>();
        await alice.SendAsync(f => ClientFrames.Join(f, 3, "game:1", will: "alice vanished"u8, hasWill: true));
        await alice.ExpectAsync<JoinedMessage>();
        await bob.SendAsync(f => ClientFrames.Join(f, 2, "game:1"));
        await bob.ExpectAsync<JoinedMessage>();
        Assert.Equal("game:1", (await alice.ExpectAsync<PresenceDiffMessage>()).Room); // bob's join

        string token = Token("alice", Now + 120, ["lobby"]);
        await alice.SendAsync(f => ClientFrames.Refresh(f, 4, token));
        RefreshedMessage refreshed = await alice.ExpectAsync<RefreshedMessage>();
        Assert.Equal(["game:1"], refreshed.Left);

        // The leave diff comes alone: a will would have come first, as a MESSAGE.
        PresenceDiffMessage diff = Assert.IsType<PresenceDiffMessage>(await bob.ReceiveAsync());
        Assert.Equal("game:1", diff.Room);
        Assert.Empty(diff.Joins);
        Assert.Equal(alice.Conn, Assert.Single(diff.Leaves).Conn);

        // The new rooms claim rules from now on; the room it still allows stays joined.
        await alice.SendAsync(f => ClientFrames.Join(f, 5, "game:2"));
        Assert.Equal((5u, ErrorCode.Forbidden), await ErrorOf(alice));
        await alice.SendAsync(f => ClientFrames.Publish(f, 6, "game:1", "x"u8));
        Assert.Equal((6u, ErrorCode.NotJoined), await ErrorOf(alice));
        await alice.SendAsync(f => ClientFrames.Publish(f, 7, "lobby", "x"u8));
        Assert.Equal(7u, (await alice.ExpectAsync<OkMessage>()).Rid);

        // Logs say who refreshed, never the token.
        await _server.Log.WaitForAsync(TimeSpan.FromSeconds(5), alice.Conn, "user alice refreshed its token", "left 1 rooms");
        Assert.DoesNotContain(_server.Log.Lines, line => line.Contains(token.Split('.')[2], StringComparison.Ordinal));
    }

    // Names, not tokens: the tokens are made when the test runs, so their exp is relative to then.
    public static TheoryData<string> RefusedRefreshes() => ["another user's token", "a bad signature", "an expired token", "not a JWT"];

    private static (string Token, ErrorCode Code) Refused(string what) => what switch
    {
        "another user's token" => (Token("mallory", Now + 60, ["*"]), ErrorCode.Forbidden),
        "a bad signature" => (Token("alice", Now + 60, ["*"], secret: "another-secret"), ErrorCode.Auth),
        "an expired token" => (Token("alice", Now - 10, ["*"]), ErrorCode.Auth),
        _ => ("not-a-jwt", ErrorCode.Auth),
    };

    [Theory]
    [MemberData(nameof(RefusedRefreshes))]
    public async Task A_refused_refresh_keeps_the_old_token_its_rooms_and_its_expiry(string what)
    {
        (string token, ErrorCode code) = Refused(what);
        await using TestClient alice = await HelloAsync(Token("alice", Now + 4, ["lobby"]));
        await alice.SendAsync(f => ClientFrames.Join(f, 2, "lobby"));
        await alice.ExpectAsync<JoinedMessage>();
        await alice.SendAsync(f => ClientFrames.Refresh(f, 3, token));
        Assert.True((3u, code) == await ErrorOf(alice), what);

        // Open, still alice, still in lobby, still under the old rooms claim (the refused token allowed every room).
        await alice.SendAsync(f => ClientFrames.Publish(f, 4, "lobby", "x"u8));
        Assert.Equal(4u, (await alice.ExpectAsync<OkMessage>()).Rid);
        await alice.SendAsync(f => ClientFrames.Join(f, 5, "elsewhere"));
        Assert.Equal((5u, ErrorCode.Forbidden), await ErrorOf(alice));
        Assert.Equal((0L, 1L), (_server.Server.DispatchCounters.Refreshes, _server.Server.DispatchCounters.RefreshesRefused));
        // And the old exp still ends it.
        GoAwayMessage end = Assert.IsType<GoAwayMessage>(Assert.Single(await alice.ReadUntilClosedAsync(TimeSpan.FromSeconds(10))));
        Assert.Equal((ErrorCode.Auth, "token expired"), (end.Code, end.Text));
    }

    [Fact]
    public async Task Refresh_under_auth_none_is_bad_request_and_the_connection_stays_open()
    {
        await using TestServer plain = TestServer.Start();
        await using TestClient alice = await TestClient.HelloAsync(plain.EndPoint, "alice", features: ProtocolFeatures.Refresh);
        Assert.Equal(ProtocolFeatures.Refresh, alice.Welcome!.Features);
        await alice.SendAsync(f => ClientFrames.Refresh(f, 2, Token("alice", Now + 60)));
        Assert.Equal((2u, ErrorCode.BadRequest), await ErrorOf(alice));
        await alice.SendAsync(f => ClientFrames.Ping(f, 3));
        Assert.Equal(3u, (await alice.ExpectAsync<PongMessage>()).Rid);
        Assert.Equal(1L, plain.Server.DispatchCounters.RefreshesRefused);
    }

    [Fact]
    public async Task Refresh_is_counted_by_result_in_the_metrics()
    {
        await using TestClient alice = await HelloAsync(Token("alice", Now + 60));
        await alice.SendAsync(f => ClientFrames.Refresh(f, 2, Token("alice", Now + 120)));
        await alice.ExpectAsync<RefreshedMessage>();
        await alice.SendAsync(f => ClientFrames.Refresh(f, 3, Token("bob", Now + 120)));
        await alice.ExpectAsync<ErrorMessage>();
        string metrics = _server.Exporter.Scrape();
        Assert.Contains("presenced_token_refreshes_total{result=\"ok\"} 1", metrics);
        Assert.Contains("presenced_token_refreshes_total{result=\"refused\"} 1", metrics);
    }

    private static async Task<(uint, ErrorCode)> ErrorOf(TestClient client)
    {
        ErrorMessage error = await client.ExpectAsync<ErrorMessage>();
        return (error.Rid, error.Code);
    }
}
