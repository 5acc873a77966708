using System.Diagnostics;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;
using Xunit.Abstractions;

namespace PresenceD.Server.Tests.Sessions;

/// <summary>
/// A network blip behind one load balancer: 1,000 resumable members of a room lose their connections (RST) at once
/// and all come back at once. All resume, the member who stayed sees no diff, and no message is lost. The resume
/// time (HELLO written to WELCOME read, per client, all at once) is printed for docs/benchmarks.md, never asserted.
/// </summary>
[Collection(ResumeBlipCollection.Name)]
public sealed class ResumeBlipTests(ITestOutputHelper output)
{
    private const int Count = 1000;
    private const int HeldMessages = 5;

    [Fact]
    public async Task A_thousand_members_dropped_at_once_all_resume_with_every_message_and_no_diff()
    {
        await using TestServer server = TestServer.Start(o =>
        {
            o.PresenceLimit = 10; // small snapshots: the test is about the blip, not JOINED sizes
            o.HeartbeatInterval = TimeSpan.FromSeconds(30);
            o.HeartbeatTimeout = TimeSpan.FromSeconds(90);
            o.ResumeWindow = TimeSpan.FromSeconds(60);
        });
        await using TestClient watcher = await TestClient.HelloAsync(server.EndPoint, "watcher");
        await watcher.SendAsync(b => ClientFrames.Join(b, 1, "blip"));
        await watcher.ExpectAsync<JoinedMessage>();

        var tokens = new string[Count];
        var conns = new string[Count];
        var dropped = new TestClient[Count];
        for (int i = 0; i < Count; i += 100)
        {
            await Task.WhenAll(Enumerable.Range(i, 100).Select(async k =>
            {
                dropped[k] = await TestClient.HelloAsync(server.EndPoint, "player" + k, resume: "");
                await dropped[k].SendAsync(b => ClientFrames.Join(b, 1, "blip"));
                await dropped[k].ExpectAsync<JoinedMessage>();
                tokens[k] = dropped[k].Welcome!.ResumeToken;
                conns[k] = dropped[k].Conn;
            }));
        }
        for (int i = 0; i < Count; i++) Assert.IsType<PresenceDiffMessage>(await watcher.ReceiveAsync());

        foreach (TestClient client in dropped) client.Abort();
        await Eventually.TrueAsync(() => server.Server.ResumeCounters.Suspended == Count, $"{Count} sessions suspended",
            TimeSpan.FromSeconds(60), () => $"{server.Server.ResumeCounters.Suspended} suspended");
        for (int i = 0; i < HeldMessages; i++)
        {
            int n = i;
            await watcher.SendAsync(b => ClientFrames.Publish(b, (uint)(10 + n), "blip", [(byte)n]));
            await watcher.ExpectAsync<OkMessage>();
        }

        var resumed = new TestClient[Count];
        var times = new double[Count];
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Count).Select(async k =>
            {
                await Task.Yield();
                long started = Stopwatch.GetTimestamp();
                resumed[k] = await TestClient.HelloAsync(server.EndPoint, "player" + k, resume: tokens[k]);
                times[k] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Assert.True(resumed[k].Welcome!.Resumed, $"player{k} resumed");
                Assert.Equal(conns[k], resumed[k].Conn);
            }));
            Array.Sort(times);
            output.WriteLine($"{Count} resumes at once: p50 {times[Count / 2]:F1} ms, p99 {times[Count * 99 / 100]:F1} ms, max {times[^1]:F1} ms (connect + HELLO to WELCOME)");

            // One message after the blip: each member's frames are the held ones in order, then it, nothing else.
            await watcher.SendAsync(b => ClientFrames.Publish(b, 20, "blip", [99]));
            await watcher.ExpectAsync<OkMessage>();
            await Task.WhenAll(resumed.Select(async client =>
            {
                for (int i = 0; i < HeldMessages; i++) Assert.Equal([(byte)i], (await client.ExpectAsync<RoomMessage>()).Payload);
                Assert.Equal([99], (await client.ExpectAsync<RoomMessage>()).Payload);
            }));
            // The watcher saw no diff and no will: the PONG of a PING sent now is its very next frame.
            await watcher.SendAsync(b => ClientFrames.Ping(b, 30));
            Assert.Equal(30u, (await watcher.ExpectAsync<PongMessage>()).Rid);
            Assert.Equal(Count, server.Server.ResumeCounters.Resumed);
            Assert.Equal(0, server.Server.ResumeCounters.Expired);
        }
        finally
        {
            foreach (TestClient? client in resumed) if (client is not null) await client.DisposeAsync();
        }
    }
}

/// <summary>The blip runs alone: 2,000 sockets next to another test's 2,000 starve both past their heartbeat timeouts.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResumeBlipCollection
{
    public const string Name = "resume blip (alone)";
}
