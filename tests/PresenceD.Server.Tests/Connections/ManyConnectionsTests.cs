using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Connections;

public sealed class ManyConnectionsTests
{
    [Fact]
    public async Task Two_thousand_concurrent_connections_join_one_room_and_all_get_a_message()
    {
        await using TestServer server = TestServer.Start(o => o.PresenceLimit = 10);
        const int count = 2000;
        var clients = new TestClient[count];
        try
        {
            for (int i = 0; i < count; i += 100)
            {
                await Task.WhenAll(Enumerable.Range(i, 100).Select(async k =>
                {
                    clients[k] = await server.HelloAsync("user" + k);
                    await clients[k].SendAsync(f => ClientFrames.Join(f, 1, "everyone"));
                    await clients[k].ExpectAsync<JoinedMessage>();
                }));
            }
            Assert.Equal(count, server.Server.Connections.Registry.Count);
            await clients[0].SendAsync(f => ClientFrames.Count(f, 2, "everyone"));
            ServerMessage? reply;
            do reply = await clients[0].ReceiveAsync(); while (reply is PresenceDiffMessage);
            Assert.Equal(count, Assert.IsType<CountStateMessage>(reply).Connections);

            await clients[0].SendAsync(f => ClientFrames.Publish(f, 0, "everyone", [42]));
            await Task.WhenAll(clients.Skip(1).Select(async c =>
            {
                ServerMessage? m;
                do m = await c.ReceiveAsync(); while (m is PresenceDiffMessage);
                Assert.Equal([42], Assert.IsType<RoomMessage>(m).Payload);
            }));
        }
        finally
        {
            foreach (TestClient c in clients) if (c is not null) await c.DisposeAsync();
        }
    }
}
