using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Dispatch;

/// <summary>
/// online_visibility over real sockets: a user the asker may not see is answered exactly as an offline user
/// (absent from ONLINE_STATE), so the reply cannot tell "hidden" from "offline".
/// </summary>
public sealed class OnlineVisibilityTests : IDisposable
{
    private const string Secret = "visibility-secret-of-some-length";
    private readonly string _secretFile = Path.GetTempFileName();

    public OnlineVisibilityTests() => File.WriteAllText(_secretFile, Secret);

    public void Dispose() => File.Delete(_secretFile);

    private TestServer Start(OnlineVisibility visibility) => TestServer.Start(o =>
    {
        o.Auth = AuthMode.Jwt;
        o.JwtSecretFile = _secretFile;
        o.OnlineVisibility = visibility;
    });

    private static string Token(string sub, string[]? see = null) => see is null
        ? JwtAuthTests.Token(new { sub, exp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 120, rooms = new[] { "*" } }, secret: Secret)
        : JwtAuthTests.Token(new { sub, exp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 120, rooms = new[] { "*" }, see }, secret: Secret);

    private static async Task JoinAsync(TestClient client, string room)
    {
        await client.SendAsync(f => ClientFrames.Join(f, 2, room));
        await client.ExpectAsync<JoinedMessage>();
    }

    private static async Task<IReadOnlyList<string>> OnlineAsync(TestClient client, params string[] users)
    {
        await client.SendAsync(f => ClientFrames.Online(f, 9, users));
        // Presence diffs of the rooms joined may come first; the answer is the ONLINE_STATE.
        List<ServerMessage> frames = await client.ReceiveUntilAsync(f => f is OnlineStateMessage, "ONLINE_STATE");
        return ((OnlineStateMessage)frames[^1]).Online;
    }

    [Fact]
    public async Task All_reports_every_online_user()
    {
        await using TestServer server = Start(OnlineVisibility.All);
        await using TestClient alice = await TestClient.HelloAsync(server.EndPoint, Token("alice"));
        await using TestClient carol = await TestClient.HelloAsync(server.EndPoint, Token("carol"));
        Assert.Equal(["carol"], await OnlineAsync(alice, "carol", "nobody"));
    }

    [Fact]
    public async Task Shared_rooms_reports_only_users_sharing_a_room_now_and_a_hidden_user_reads_as_offline()
    {
        await using TestServer server = Start(OnlineVisibility.SharedRooms);
        await using TestClient alice = await TestClient.HelloAsync(server.EndPoint, Token("alice"));
        await using TestClient bob = await TestClient.HelloAsync(server.EndPoint, Token("bob"));
        await using TestClient carol = await TestClient.HelloAsync(server.EndPoint, Token("carol"));
        await JoinAsync(alice, "party");
        await JoinAsync(bob, "party");
        await JoinAsync(carol, "elsewhere");

        Assert.Equal(["alice", "bob"], await OnlineAsync(alice, "alice", "bob", "carol", "nobody"));
        // carol is online but shares no room: the answer about her is the answer about a user who does not exist.
        Assert.Equal(await OnlineAsync(alice, "nobody"), await OnlineAsync(alice, "carol"));

        await JoinAsync(carol, "party");
        Assert.Equal(["carol"], await OnlineAsync(alice, "carol"));
    }

    [Fact]
    public async Task Claim_mode_follows_the_see_claim_and_without_it_falls_back_to_shared_rooms()
    {
        await using TestServer server = Start(OnlineVisibility.Claim);
        await using TestClient friends = await TestClient.HelloAsync(server.EndPoint, Token("watcher", see: ["team-*", "dave"]));
        await using TestClient admin = await TestClient.HelloAsync(server.EndPoint, Token("admin", see: ["*"]));
        await using TestClient plain = await TestClient.HelloAsync(server.EndPoint, Token("plain"));
        await using TestClient team1 = await TestClient.HelloAsync(server.EndPoint, Token("team-1"));
        await using TestClient dave = await TestClient.HelloAsync(server.EndPoint, Token("dave"));
        await using TestClient erin = await TestClient.HelloAsync(server.EndPoint, Token("erin"));

        Assert.Equal(["team-1", "dave"], await OnlineAsync(friends, "team-1", "dave", "erin"));
        Assert.Equal(["team-1", "dave", "erin"], await OnlineAsync(admin, "team-1", "dave", "erin"));
        Assert.Equal(["plain"], await OnlineAsync(plain, "plain", "team-1", "dave", "erin"));

        await JoinAsync(plain, "room");
        await JoinAsync(erin, "room");
        Assert.Equal(["erin"], await OnlineAsync(plain, "dave", "erin"));
    }

    [Fact]
    public void Claim_mode_needs_auth_jwt()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(["--online_visibility", "claim"]));
        Assert.Equal("command line --online_visibility: online_visibility claim needs auth jwt (the see claim is in the token)", e.Message);
    }
}
