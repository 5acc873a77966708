using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Dispatch;

public sealed class JwtAuthTests : IAsyncLifetime
{
    private const string Secret = "test-secret-of-some-length";
    private readonly string _secretFile = Path.GetTempFileName();
    private TestServer _server = null!;

    public Task InitializeAsync()
    {
        File.WriteAllText(_secretFile, Secret + "\n"); // trailing whitespace is not part of the secret
        _server = TestServer.Start(o =>
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

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static string Token(object claims, string alg = "HS256", string secret = Secret)
    {
        string header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg, typ = "JWT" }));
        string payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        byte[] signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(header + "." + payload));
        return header + "." + payload + "." + Base64Url(signature);
    }

    private static long In(int seconds) => DateTimeOffset.UtcNow.ToUnixTimeSeconds() + seconds;

    private async Task<List<ServerMessage>> HelloWithAsync(string token)
    {
        await using TestClient client = await _server.ConnectAsync();
        await client.SendAsync(f => ClientFrames.Hello(f, 4, token, "tests"));
        return await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(5)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : [], TaskScheduler.Default);
    }

    [Fact]
    public async Task A_resume_needs_a_valid_token_of_the_same_user_else_it_gets_a_fresh_session_or_is_refused()
    {
        string alice = Token(new { sub = "alice", exp = In(60), rooms = new[] { "lobby" } });
        TestClient first = await TestClient.HelloAsync(_server.EndPoint, alice, resume: "");
        await first.SendAsync(f => ClientFrames.Join(f, 2, "lobby"));
        await first.ExpectAsync<JoinedMessage>();
        string resumeToken = first.Welcome!.ResumeToken;
        first.Abort();
        await Eventually.TrueAsync(() => _server.Server.ResumeCounters.Suspended == 1, "the session suspended");

        // Another user's valid JWT with alice's resume token: a fresh session of that user; alice's stays resumable.
        await using TestClient bob = await TestClient.HelloAsync(_server.EndPoint, Token(new { sub = "bob", exp = In(60) }), resume: resumeToken);
        Assert.False(bob.Welcome!.Resumed);
        Assert.Equal("bob", bob.Welcome.User);
        // An invalid JWT is refused as always, resume token or not.
        List<ServerMessage> refused = await HelloWithResumeAsync(Token(new { sub = "alice", exp = In(60) }, secret: "wrong"), resumeToken);
        Assert.Equal(ErrorCode.Auth, Assert.IsType<ErrorMessage>(refused[0]).Code);
        // A new valid JWT of alice resumes.
        await using TestClient back = await TestClient.HelloAsync(_server.EndPoint, alice, resume: resumeToken);
        Assert.True(back.Welcome!.Resumed);
        Assert.Equal(first.Conn, back.Welcome.Conn);
    }

    private async Task<List<ServerMessage>> HelloWithResumeAsync(string token, string resume)
    {
        await using TestClient client = await _server.ConnectAsync();
        await client.SendAsync(f => ClientFrames.Hello(f, 4, token, "tests", resume: resume));
        return await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Valid_token_gives_the_sub_as_user_and_rooms_claim_limits_rooms()
    {
        await using TestClient client = await _server.ConnectAsync();
        await client.SendAsync(f => ClientFrames.Hello(f, 1, Token(new { sub = "alice", exp = In(60), rooms = new[] { "lobby", "game:*" } }), "tests"));
        Assert.Equal("alice", (await client.ExpectAsync<WelcomeMessage>()).User);
        await client.SendAsync(f => ClientFrames.Join(f, 2, "lobby"));
        await client.ExpectAsync<JoinedMessage>();
        await client.SendAsync(f => ClientFrames.Join(f, 3, "game:42"));
        await client.ExpectAsync<JoinedMessage>();
        await client.SendAsync(f => ClientFrames.Join(f, 4, "secret"));
        ErrorMessage forbidden = await client.ExpectAsync<ErrorMessage>();
        Assert.Equal((4u, ErrorCode.Forbidden), (forbidden.Rid, forbidden.Code));
        await client.SendAsync(f => ClientFrames.Presence(f, 5, "secret"));
        Assert.Equal(ErrorCode.Forbidden, (await client.ExpectAsync<ErrorMessage>()).Code);
        await client.SendAsync(f => ClientFrames.Count(f, 6, "gamex"));
        Assert.Equal(ErrorCode.Forbidden, (await client.ExpectAsync<ErrorMessage>()).Code);
        await client.SendAsync(f => ClientFrames.Ping(f, 7));
        Assert.Equal(7u, (await client.ExpectAsync<PongMessage>()).Rid); // still open
    }

    [Fact]
    public async Task Token_without_rooms_claim_allows_no_room()
    {
        await using TestClient client = await _server.ConnectAsync();
        await client.SendAsync(f => ClientFrames.Hello(f, 1, Token(new { sub = "bob", exp = In(60) }), null));
        await client.ExpectAsync<WelcomeMessage>();
        await client.SendAsync(f => ClientFrames.Join(f, 2, "lobby"));
        Assert.Equal(ErrorCode.Forbidden, (await client.ExpectAsync<ErrorMessage>()).Code);
    }

    public static TheoryData<string> RefusedTokens() => new()
    {
        Token(new { sub = "alice", exp = In(-10) }),                           // expired
        Token(new { sub = "alice", exp = In(60) }, secret: "another-secret"),   // wrong signature
        Token(new { sub = "alice", exp = In(60) }, alg: "HS512"),              // alg other than HS256
        Token(new { sub = "alice", exp = In(60) }, alg: "none"),
        Token(new { exp = In(60) }),                                           // no sub
        Token(new { sub = "alice" }),                                          // no exp
        Token(new { sub = "", exp = In(60) }),                                 // sub not a valid user id
        "not-a-jwt",
        "a.b.c",
    };

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task Bad_tokens_are_auth_error_then_goaway_auth(string token)
    {
        List<ServerMessage> frames = await HelloWithAsync(token);
        ErrorMessage error = Assert.IsType<ErrorMessage>(frames[0]);
        Assert.Equal((4u, ErrorCode.Auth), (error.Rid, error.Code));
        Assert.Equal(ErrorCode.Auth, Assert.IsType<GoAwayMessage>(frames[1]).Code);
    }

    [Fact]
    public async Task Unsigned_token_with_alg_none_and_empty_signature_is_refused()
    {
        string header = Base64Url("{\"alg\":\"none\"}"u8.ToArray());
        string payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { sub = "mallory", exp = In(60) }));
        List<ServerMessage> frames = await HelloWithAsync(header + "." + payload + ".");
        Assert.Equal(ErrorCode.Auth, Assert.IsType<ErrorMessage>(frames[0]).Code);
    }

    [Fact]
    public async Task Token_expiring_while_connected_gets_goaway_auth()
    {
        await using TestClient client = await _server.ConnectAsync();
        await client.SendAsync(f => ClientFrames.Hello(f, 1, Token(new { sub = "carol", exp = In(1) }), null));
        await client.ExpectAsync<WelcomeMessage>();
        List<ServerMessage> frames = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ErrorCode.Auth, Assert.IsType<GoAwayMessage>(Assert.Single(frames)).Code);
    }
}
