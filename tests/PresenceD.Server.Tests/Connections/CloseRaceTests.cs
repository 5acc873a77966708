using System.Net.Sockets;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Connections;

/// <summary>Replies racing a close, and a send side that must never stay stuck.</summary>
public sealed class CloseRaceTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task No_reply_follows_the_GOAWAY_when_the_server_closes_connections_under_a_ping_flood()
    {
        await using TestServer server = TestServer.Start();
        var clients = new List<TestClient>();
        for (int i = 0; i < 16; i++) clients.Add(await server.HelloAsync("flood" + i));
        byte[] pings = Pings(500, firstRid: 1);
        using var stop = new CancellationTokenSource();
        List<Task> floods = clients.Select(client => Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested) await client.SendRawAsync(pings);
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                // the server closed the connection: the flood is over
            }
        })).ToList();
        // The flood is under way on every connection before the close starts.
        long framesBefore = server.Server.Connections.Counters.FramesReceived;
        await Eventually.TrueAsync(() => server.Server.Connections.Counters.FramesReceived > framesBefore + 16 * 2_000, "16 ping floods reach the server", Wait);

        Task drain = server.Server.DrainAsync(TimeSpan.FromSeconds(5));
        foreach (TestClient client in clients)
        {
            List<ServerMessage> frames = await client.ReadUntilClosedAsync(Wait);
            int goAway = frames.FindIndex(f => f is GoAwayMessage);
            // These clients are read one after another: one whose GOAWAY is not taken within the 2 s flush deadline is
            // cut without it. What was received must end with it.
            if (goAway >= 0) Assert.Equal(frames.Count - 1, goAway);
            Assert.All(frames.Take(goAway < 0 ? frames.Count : goAway), f => Assert.IsType<PongMessage>(f));
        }
        await stop.CancelAsync();
        await drain;
        await Task.WhenAll(floods);
        foreach (TestClient client in clients) await client.DisposeAsync();
    }

    [Fact]
    public async Task A_reader_that_stalls_gets_every_reply_in_order_once_it_reads_and_the_connection_keeps_sending()
    {
        await using TestServer server = TestServer.Start(o => o.SendQueueLimit = 64L * 1024 * 1024);
        await using TestClient client = await server.HelloAsync("stall");
        const int Count = 400_000;
        // Far more PONG bytes than loopback socket buffers hold while the client does not read: the server's
        // sends hit a full buffer and finish asynchronously, then go back to synchronous sends.
        await client.SendRawAsync(Pings(Count, firstRid: 2));
        await Eventually.TrueAsync(() => server.Server.Connections.Counters.FramesReceived >= Count, "every PING read by the server", Wait);
        for (uint rid = 2; rid < Count + 2; rid++)
        {
            PongMessage pong = await client.ExpectAsync<PongMessage>(Wait);
            Assert.Equal(rid, pong.Rid);
        }
        await client.SendAsync(output => ClientFrames.Ping(output, 7));
        Assert.Equal(7u, (await client.ExpectAsync<PongMessage>(Wait)).Rid);
    }

    private static byte[] Pings(int count, uint firstRid)
    {
        using var frames = new FrameBuffer(count * 8);
        for (int i = 0; i < count; i++) ClientFrames.Ping(frames, firstRid + (uint)i);
        return frames.WrittenSpan.ToArray();
    }
}
