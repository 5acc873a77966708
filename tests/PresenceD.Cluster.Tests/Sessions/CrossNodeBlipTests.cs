using System.Diagnostics;
using System.Text;
using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Sessions;

/// <summary>
/// A network blip behind one load balancer: 1,000 resumable clients of node A drop at once and all come back
/// through node B. Every session is handed over: all resume, nobody sees a diff, no message is lost.
/// </summary>
[Collection(SingleRedis.Collection)]
public sealed class CrossNodeBlipTests(SingleRedis redis)
{
    private const int Clients = 1_000;
    private const int RoomSize = 10;
    private const int Watchers = 10;

    [Fact]
    public async Task A_thousand_clients_dropped_on_one_node_all_resume_on_another_with_no_diff_and_no_lost_message()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2, new Dictionary<string, string>
        {
            ["resume_handover_timeout"] = "10s",
            ["hello_timeout"] = "20s",
            ["resume_window"] = "60s",
        });
        int rooms = Clients / RoomSize;
        var watchers = new List<TestClient>();
        var clients = new TestClient[Clients];
        var back = new TestClient[Clients];
        try
        {
            // Watchers on node B, each in rooms/Watchers rooms; then the clients on node A, RoomSize to a room.
            for (int w = 0; w < Watchers; w++)
            {
                TestClient watcher = await cluster[1].HelloAsync("w" + w);
                watchers.Add(watcher);
                for (int r = w; r < rooms; r += Watchers) await watcher.JoinAsync("b" + r);
            }
            for (int i = 0; i < Clients; i++)
            {
                clients[i] = await TestClient.HelloAsync(cluster[0].EndPoint, "u" + i, keepAlive: ClusterFixture.KeepAlive, resume: "");
                await clients[i].JoinAsync("b" + (i / RoomSize));
            }
            // Each watcher sees every join of its rooms (in JOINED's members or a diff): wait until the counts say so.
            foreach (TestClient watcher in watchers)
            {
                await Eventually.TrueAsync(async () =>
                {
                    for (int r = watchers.IndexOf(watcher); r < rooms; r += Watchers)
                    {
                        await watcher.SendAsync(b => ClientFrames.Count(b, 77, "b" + r));
                        List<ServerMessage> got = await watcher.ReceiveUntilAsync(m => m is CountStateMessage, "COUNT");
                        if (((CountStateMessage)got[^1]).Connections != RoomSize + 1) return false;
                    }
                    return true;
                }, "every watcher's rooms full", TimeSpan.FromSeconds(30));
                await watcher.DrainAsync(TimeSpan.FromMilliseconds(200));
            }

            // The blip: every client's connection reset at once; node A suspends them all.
            WelcomeMessage[] first = [.. clients.Select(c => c.Welcome!)];
            int from = cluster[0].Lines.Count;
            foreach (TestClient client in clients) client.Abort();
            await Eventually.TrueAsync(() => cluster[0].Lines.Skip(from).Count(l => l.Contains("closed: SocketError", StringComparison.Ordinal) || l.Contains("closed: ClientClosed", StringComparison.Ordinal)) >= Clients,
                "node A to see every connection drop", TimeSpan.FromSeconds(30));
            // While they are away, one message to each room.
            for (int r = 0; r < rooms; r++)
            {
                int room = r;
                TestClient watcher = watchers[r % Watchers];
                await watcher.SendAsync(b => ClientFrames.Publish(b, 5, "b" + room, Encoding.UTF8.GetBytes("away-" + room)));
                await watcher.ReceiveUntilAsync(m => m is OkMessage, "OK");
            }

            // All come back through node B at once.
            var took = new double[Clients];
            await Task.WhenAll(Enumerable.Range(0, Clients).Select(async i =>
            {
                long start = Stopwatch.GetTimestamp();
                back[i] = await TestClient.HelloAsync(cluster[1].EndPoint, "u" + i, keepAlive: ClusterFixture.KeepAlive, resume: first[i].ResumeToken);
                took[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }));
            Assert.All(Enumerable.Range(0, Clients), i => Assert.True(back[i].Welcome!.Resumed && back[i].Welcome!.Conn == first[i].Conn, $"u{i} resumed"));
            await Task.WhenAll(Enumerable.Range(0, Clients).Select(async i =>
            {
                RoomMessage held = await back[i].ExpectAsync<RoomMessage>(TimeSpan.FromSeconds(20));
                Assert.Equal("away-" + (i / RoomSize), Encoding.UTF8.GetString(held.Payload));
            }));
            foreach (TestClient watcher in watchers)
            {
                Assert.DoesNotContain(await watcher.DrainAsync(TimeSpan.FromMilliseconds(300)), m => m is PresenceDiffMessage);
            }
            Array.Sort(took);
            Console.WriteLine($"cross-node blip: {Clients} resumes through node B, HELLO to WELCOME p50 {took[Clients / 2]:F1} ms, p99 {took[Clients * 99 / 100]:F1} ms, max {took[^1]:F1} ms");
        }
        finally
        {
            foreach (TestClient? client in back) if (client is not null) await client.DisposeAsync();
            foreach (TestClient client in clients) if (client is not null) await client.DisposeAsync();
            foreach (TestClient watcher in watchers) await watcher.DisposeAsync();
        }
    }
}
