using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Dispatch;

public sealed class HelloTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public Task InitializeAsync()
    {
        _server = TestServer.Start(o => o.HelloTimeout = TimeSpan.FromMilliseconds(1500));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Welcome_carries_user_conn_node_and_timing()
    {
        await using TestClient client = await TestClient.ConnectAsync(_server.EndPoint);
        await client.SendAsync(b => ClientFrames.Hello(b, 7, "alice", "tests"));
        WelcomeMessage welcome = await client.ExpectAsync<WelcomeMessage>();
        Assert.Equal(7u, welcome.Rid);
        Assert.Equal("alice", welcome.User);
        Assert.StartsWith(welcome.Node + "-", welcome.Conn);
        Assert.Equal(5000, welcome.HeartbeatMs);
        Assert.Equal(15000, welcome.TimeoutMs);
        Assert.True(welcome.TimeoutMs > welcome.HeartbeatMs);
        Assert.Equal(65536, welcome.MaxFrame);
    }

    [Fact]
    public async Task Conn_ids_are_unique()
    {
        await using TestClient a = await _server.HelloAsync("u");
        await using TestClient b = await _server.HelloAsync("u");
        Assert.NotEqual(a.Conn, b.Conn);
    }

    [Fact]
    public async Task Op_before_hello_is_protocol_error_then_goaway_then_close()
    {
        await using TestClient client = await TestClient.ConnectAsync(_server.EndPoint);
        await client.SendAsync(b => ClientFrames.Ping(b, 3));
        List<ServerMessage> frames = await client.ReadUntilClosedAsync();
        Assert.Collection(frames,
            f => Assert.Equal(ErrorCode.Protocol, Assert.IsType<ErrorMessage>(f).Code),
            f => Assert.Equal(ErrorCode.Protocol, Assert.IsType<GoAwayMessage>(f).Code));
    }

    [Theory]
    [InlineData(2, ErrorCode.Version)]
    [InlineData(0, ErrorCode.Version)]
    public async Task Wrong_version_is_refused_with_the_hello_rid(int version, ErrorCode code)
    {
        await using TestClient client = await TestClient.ConnectAsync(_server.EndPoint);
        await client.SendAsync(b => ClientFrames.Hello(b, 9, "bob", null, version));
        List<ServerMessage> frames = await client.ReadUntilClosedAsync();
        ErrorMessage error = Assert.IsType<ErrorMessage>(frames[0]);
        Assert.Equal(9u, error.Rid);
        Assert.Equal(code, error.Code);
        Assert.Equal(code, Assert.IsType<GoAwayMessage>(frames[1]).Code);
        Assert.Equal(2, frames.Count);
    }

    [Fact]
    public async Task Nil_credential_is_auth_error()
    {
        await using TestClient client = await TestClient.ConnectAsync(_server.EndPoint);
        await client.SendAsync(b => ClientFrames.Hello(b, 1, null, null));
        List<ServerMessage> frames = await client.ReadUntilClosedAsync();
        Assert.Equal(ErrorCode.Auth, Assert.IsType<ErrorMessage>(frames[0]).Code);
        Assert.Equal(ErrorCode.Auth, Assert.IsType<GoAwayMessage>(frames[1]).Code);
    }

    [Theory]
    [InlineData("", ErrorCode.BadRequest)]
    [InlineData("a\u0001b", ErrorCode.BadRequest)]
    [InlineData("a\u0085b", ErrorCode.BadRequest)]
    public async Task Invalid_user_id_closes_with_its_code(string user, ErrorCode code)
    {
        await using TestClient client = await TestClient.ConnectAsync(_server.EndPoint);
        await client.SendAsync(b => ClientFrames.Hello(b, 1, user, null));
        List<ServerMessage> frames = await client.ReadUntilClosedAsync();
        Assert.Equal(code, Assert.IsType<ErrorMessage>(frames[0]).Code);
        Assert.Equal(code, Assert.IsType<GoAwayMessage>(frames[1]).Code);
    }

    [Fact]
    public async Task User_id_over_name_max_is_too_large()
    {
        await using TestClient client = await TestClient.ConnectAsync(_server.EndPoint);
        await client.SendAsync(b => ClientFrames.Hello(b, 1, new string('u', 129), null));
        List<ServerMessage> frames = await client.ReadUntilClosedAsync();
        Assert.Equal(ErrorCode.TooLarge, Assert.IsType<ErrorMessage>(frames[0]).Code);
        Assert.Equal(ErrorCode.TooLarge, Assert.IsType<GoAwayMessage>(frames[1]).Code);
    }

    [Fact]
    public async Task Repeated_hello_is_protocol_error()
    {
        await using TestClient client = await _server.HelloAsync("carol");
        await client.SendAsync(b => ClientFrames.Hello(b, 2, "carol", null));
        List<ServerMessage> frames = await client.ReadUntilClosedAsync();
        Assert.Equal(ErrorCode.Protocol, Assert.IsType<ErrorMessage>(frames[0]).Code);
        Assert.Equal(ErrorCode.Protocol, Assert.IsType<GoAwayMessage>(frames[1]).Code);
    }

    [Fact]
    public async Task No_hello_in_time_is_goaway_timeout()
    {
        await using TestClient client = await TestClient.ConnectAsync(_server.EndPoint);
        List<ServerMessage> frames = await client.ReadUntilClosedAsync();
        GoAwayMessage goAway = Assert.IsType<GoAwayMessage>(Assert.Single(frames));
        Assert.Equal(ErrorCode.Timeout, goAway.Code);
    }

    [Fact]
    public async Task Ping_gets_pong_even_with_rid_zero()
    {
        await using TestClient client = await _server.HelloAsync("dave");
        await client.SendAsync(b => ClientFrames.Ping(b, 0));
        Assert.Equal(0u, (await client.ExpectAsync<PongMessage>()).Rid);
        await client.SendAsync(b => ClientFrames.Ping(b, 42));
        Assert.Equal(42u, (await client.ExpectAsync<PongMessage>()).Rid);
    }
}
