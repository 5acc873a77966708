using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Fanout;

public sealed class ConcurrentFanoutTests
{
    /// <summary>
    /// Several publishers burst at once into one room while every member reads: each member must get every
    /// message. A lost wake-up between a producer queuing and a sender releasing the socket shows up here as
    /// members that stop receiving.
    /// </summary>
    [Fact]
    public async Task Every_member_gets_every_message_of_concurrent_bursts()
    {
        await using TestServer server = TestServer.Start();
        const int members = 100, publishers = 4, bursts = 50, perBurst = 20;
        var clients = new List<TestClient>();
        try
        {
            for (int i = 0; i < members + publishers; i++)
            {
                TestClient c = await server.HelloAsync("u" + i);
                await c.SendAsync(f => ClientFrames.Join(f, 1, "burst"));
                await c.ExpectAsync<JoinedMessage>();
                clients.Add(c);
            }
            List<TestClient> readers = clients.Take(members).ToList();
            const int expected = publishers * bursts * perBurst;
            Task<int>[] reading = readers.Select(r => Task.Run(async () =>
            {
                int got = 0;
                while (got < expected)
                {
                    ServerMessage? m = await r.ReceiveAsync(TimeSpan.FromSeconds(20));
                    if (m is RoomMessage) got++;
                    else if (m is null) break;
                }
                return got;
            })).ToArray();
            await Task.WhenAll(clients.Skip(members).Select(p => Task.Run(async () =>
            {
                for (int b = 0; b < bursts; b++)
                {
                    await p.SendAsync(f =>
                    {
                        for (int k = 0; k < perBurst; k++) ClientFrames.Publish(f, 0, "burst", [1, 2, 3, 4]);
                    });
                }
            })));
            int[] received = await Task.WhenAll(reading);
            Assert.All(received, got => Assert.Equal(expected, got));
        }
        finally
        {
            foreach (TestClient c in clients) await c.DisposeAsync();
        }
    }
}
