using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Connections;

public sealed class ServerFullTests
{
    [Fact]
    public async Task Connection_over_max_connections_gets_goaway_limit_with_a_reconnect_hint_and_the_others_stay()
    {
        await using TestServer server = TestServer.Start(o => o.MaxConnections = 2);
        await using TestClient a = await server.HelloAsync("a");
        await using TestClient b = await server.HelloAsync("b");
        await using TestClient c = await server.ConnectAsync();
        List<ServerMessage> frames = await c.ReadUntilClosedAsync();
        GoAwayMessage goAway = Assert.IsType<GoAwayMessage>(Assert.Single(frames));
        Assert.Equal(ErrorCode.Limit, goAway.Code);
        Assert.True(goAway.ReconnectMs > 0);
        await a.SendAsync(f => ClientFrames.Ping(f, 1));
        Assert.Equal(1u, (await a.ExpectAsync<PongMessage>()).Rid);

        await b.SendAsync(ClientFrames.Bye);
        await b.ReadUntilClosedAsync();
        await Eventually.TrueAsync(async () =>
        {
            await using TestClient d = await server.ConnectAsync();
            await d.SendAsync(f => ClientFrames.Hello(f, 1, "d", null));
            return await d.ReceiveAsync() is WelcomeMessage;
        }, "the place b left to be free again (a HELLO answered WELCOME)", TimeSpan.FromSeconds(5));
    }
}
