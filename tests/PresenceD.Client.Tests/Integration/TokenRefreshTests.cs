using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

/// <summary>The client's token provider and REFRESH against a real daemon with auth jwt.</summary>
public sealed class TokenRefreshTests : IAsyncLifetime
{
    private const string Secret = "client-refresh-test-secret";
    private readonly string _secretFile = Path.Combine(Path.GetTempPath(), "presenced-client-secret-" + Guid.NewGuid().ToString("N"));
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_secretFile, Secret);
        _daemon = await DaemonProcess.StartAsync("--auth", "jwt", "--jwt-secret-file", _secretFile, "--jwt-leeway", "0s", "--timer-tick", "20ms");
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        File.Delete(_secretFile);
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static string Token(string sub, long exp, params string[] rooms)
    {
        static string Segment(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        string header = Segment(JsonSerializer.SerializeToUtf8Bytes(new { alg = "HS256", typ = "JWT" }));
        string payload = Segment(JsonSerializer.SerializeToUtf8Bytes(new { sub, exp, rooms }));
        byte[] signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.ASCII.GetBytes(header + "." + payload));
        return header + "." + payload + "." + Segment(signature);
    }

    private PresenceClientOptions Options() => new PresenceClientOptions
    {
        RequestTimeout = TimeSpan.FromSeconds(5),
        Backoff = new BackoffPolicy { Initial = TimeSpan.FromMilliseconds(50), Max = TimeSpan.FromMilliseconds(500), Jitter = 0 },
    }.WithServer(_daemon.Address);

    [Fact]
    public async Task The_provider_refreshes_ahead_of_expiry_and_the_session_outlives_its_first_token()
    {
        var issued = new List<long>();
        PresenceClientOptions options = Options();
        // Tokens live 3 to 4 s (exp has one-second resolution); each is refreshed at half its life.
        options.TokenRefreshAt = 0.5;
        options.TokenProvider = _ =>
        {
            long exp = Now + 4;
            lock (issued) issued.Add(exp);
            return Task.FromResult(Token("alice", exp, "lobby"));
        };
        await using var alice = new PresenceClient(options);
        var log = new ClientEventLog(alice);
        var refreshedAtMs = new List<long>();
        alice.TokenRefreshed += (_, _) => { lock (refreshedAtMs) refreshedAtMs.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()); };
        WelcomeMessage welcome = await alice.ConnectAsync();
        Assert.True(welcome.CanRefresh);
        long firstExp;
        lock (issued) firstExp = Assert.Single(issued);
        await alice.JoinAsync("lobby");

        // Three refreshes take at least 4.5 s, longer than the first token lived.
        await log.WaitForAsync<TokenRefreshedEventArgs>(_ => log.OfType<TokenRefreshedEventArgs>().Count() >= 3, seconds: 30);
        TokenRefreshedEventArgs first = log.OfType<TokenRefreshedEventArgs>().First();
        Assert.True(first.Automatic);
        lock (refreshedAtMs) Assert.True(refreshedAtMs[0] < firstExp * 1000, $"the first refresh came {refreshedAtMs[0] - firstExp * 1000} ms after the first token's exp");
        Assert.True(Now >= firstExp, "the test waited past the first token's exp");
        Assert.Empty(log.OfType<TokenRefreshFailedEventArgs>());

        // One session all along: no reconnect, the same conn, still in the room, requests answered.
        Assert.Equal([ConnectionState.Connecting, ConnectionState.Connected], log.OfType<ConnectionStateChangedEventArgs>().Select(s => s.Current));
        Assert.Equal(ConnectionState.Connected, alice.State);
        Assert.Equal(welcome.Conn, alice.Welcome!.Conn);
        Assert.Equal(["lobby"], alice.JoinedRooms);
        await alice.PingAsync();
        await _daemon.WaitForLineAsync(TimeSpan.FromSeconds(5), welcome.Conn, "user alice refreshed its token");
        Assert.DoesNotContain("token expired", _daemon.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_provider_gives_the_token_of_every_hello()
    {
        int calls = 0;
        PresenceClientOptions options = Options();
        options.Resumable = false;
        options.TokenProvider = _ =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(Token("alice", Now + 60, "lobby"));
        };
        await using var alice = new PresenceClient(options);
        var log = new ClientEventLog(alice);
        await alice.ConnectAsync();
        Assert.Equal(1, Volatile.Read(ref calls));
        alice.AbortConnection();
        await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Previous == ConnectionState.Reconnecting && s.Current == ConnectionState.Connected);
        Assert.Equal(2, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task RefreshAsync_leaves_the_rooms_the_new_token_does_not_allow_and_a_refused_token_changes_nothing()
    {
        PresenceClientOptions options = Options();
        options.Credential = Token("alice", Now + 60, "lobby", "game:*");
        await using var alice = new PresenceClient(options);
        var log = new ClientEventLog(alice);
        await alice.ConnectAsync();
        await alice.JoinAsync("lobby");
        await alice.JoinAsync("game:1");

        RefreshedMessage refreshed = await alice.RefreshAsync(Token("alice", Now + 120, "lobby"));
        Assert.Equal(["game:1"], refreshed.LeftRooms);
        Assert.Equal(["lobby"], alice.JoinedRooms);
        Assert.Null(alice.GetPresence("game:1"));
        TokenRefreshedEventArgs raised = await log.WaitForAsync<TokenRefreshedEventArgs>(_ => true);
        Assert.False(raised.Automatic);
        Assert.Equal(refreshed.Exp, raised.Exp);

        var refused = await Assert.ThrowsAsync<PresenceRequestException>(() => alice.RefreshAsync(Token("mallory", Now + 60, "*")));
        Assert.Equal(ErrorCode.Forbidden, refused.Code);
        refused = await Assert.ThrowsAsync<PresenceRequestException>(() => alice.RefreshAsync("not-a-jwt"));
        Assert.Equal(ErrorCode.Auth, refused.Code);
        Assert.Equal(ConnectionState.Connected, alice.State);
        await alice.PublishAsync("lobby", "still here"u8.ToArray());
    }

    [Fact]
    public async Task A_provider_that_fails_raises_TokenRefreshFailed_and_the_session_runs_on()
    {
        int calls = 0;
        PresenceClientOptions options = Options();
        options.TokenRefreshAt = 0.3;
        options.TokenProvider = _ => Interlocked.Increment(ref calls) == 1
            ? Task.FromResult(Token("alice", Now + 10, "lobby"))
            : Task.FromException<string>(new InvalidOperationException("token backend down"));
        await using var alice = new PresenceClient(options);
        var log = new ClientEventLog(alice);
        await alice.ConnectAsync();

        TokenRefreshFailedEventArgs failed = await log.WaitForAsync<TokenRefreshFailedEventArgs>(_ => true);
        Assert.Equal("token backend down", Assert.IsType<InvalidOperationException>(failed.Error).Message);
        // 9 to 10 s lifetime, refreshed at 30%: more than 2 s are left, so the client tries again by itself.
        Assert.True(failed.WillRetry);
        await log.WaitForAsync<TokenRefreshFailedEventArgs>(_ => log.OfType<TokenRefreshFailedEventArgs>().Count() >= 2);
        Assert.Equal(ConnectionState.Connected, alice.State);
        await alice.PingAsync();
    }

    [Fact]
    public async Task When_a_token_expires_unrefreshed_the_client_reconnects_with_one_from_the_provider()
    {
        int calls = 0;
        PresenceClientOptions options = Options();
        options.Resumable = false;
        // The first HELLO's token lives 2 to 3 s; its refresh fails; the reconnect after its GOAWAY AUTH gets a good one.
        options.TokenProvider = _ => Interlocked.Increment(ref calls) switch
        {
            1 => Task.FromResult(Token("alice", Now + 3, "lobby")),
            2 => Task.FromException<string>(new InvalidOperationException("token backend down")),
            _ => Task.FromResult(Token("alice", Now + 60, "lobby")),
        };
        await using var alice = new PresenceClient(options);
        var log = new ClientEventLog(alice);
        WelcomeMessage welcome = await alice.ConnectAsync();
        await alice.JoinAsync("lobby");

        Assert.False((await log.WaitForAsync<TokenRefreshFailedEventArgs>(_ => true)).WillRetry);
        ConnectionStateChangedEventArgs lost = await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Current == ConnectionState.Reconnecting);
        Assert.Equal(ErrorCode.Auth, Assert.IsType<PresenceConnectionException>(lost.Reason).GoAwayCode);
        await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Previous == ConnectionState.Reconnecting && s.Current == ConnectionState.Connected);
        Assert.NotEqual(welcome.Conn, alice.Welcome!.Conn);
        await log.WaitForAsync<RoomRejoinedEventArgs>(r => r.Room == "lobby" && r.Error is null);
        Assert.Equal(3, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task A_resume_whose_new_token_drops_a_room_removes_its_model_and_reports_a_failed_rejoin()
    {
        int calls = 0;
        PresenceClientOptions options = Options();
        // The first HELLO's token allows both rooms; the resuming HELLO's only the lobby.
        options.TokenProvider = _ => Task.FromResult(Interlocked.Increment(ref calls) == 1
            ? Token("alice", Now + 60, "lobby", "game:1")
            : Token("alice", Now + 60, "lobby"));
        await using var alice = new PresenceClient(options);
        var log = new ClientEventLog(alice);
        WelcomeMessage welcome = await alice.ConnectAsync();
        await alice.JoinAsync("lobby");
        await alice.JoinAsync("game:1");

        alice.AbortConnection();
        ConnectionStateChangedEventArgs back = await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Previous == ConnectionState.Reconnecting && s.Current == ConnectionState.Connected);
        Assert.True(back.Resumed);
        Assert.Equal(welcome.Conn, alice.Welcome!.Conn);
        Assert.Equal(["game:1"], alice.Welcome.LeftRooms);
        RoomRejoinedEventArgs lost = await log.WaitForAsync<RoomRejoinedEventArgs>(r => r.Room == "game:1");
        Assert.Equal(ErrorCode.Forbidden, Assert.IsType<PresenceRequestException>(lost.Error).Code);
        Assert.Null(alice.GetPresence("game:1"));
        Assert.NotNull(alice.GetPresence("lobby"));
        Assert.Single(log.OfType<RoomRejoinedEventArgs>());
    }
}
