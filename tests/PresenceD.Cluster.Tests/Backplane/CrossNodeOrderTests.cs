using System.Buffers.Binary;
using System.Diagnostics;
using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;
using Xunit.Abstractions;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>
/// Per-room order is a protocol promise across nodes too: every message one client publishes reaches the
/// members on other nodes once each, in the order it was published (the Redis client's callback subscriptions
/// reorder a channel's messages; the node reads each room's channel as one ordered queue).
/// </summary>
[Collection(SingleRedis.Collection)]
public sealed class CrossNodeOrderTests(SingleRedis redis, ITestOutputHelper output)
{
    private const int Messages = 100_000;
    private const int Chunk = 500;
    // Published but not yet received by the slowest receiver: keeps the publisher's node below its Redis queue limit.
    private const int Window = 20_000;

    [Fact]
    public async Task Hundred_thousand_messages_reach_two_other_nodes_in_order_once_each()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 3, new Dictionary<string, string> { ["log_level"] = "info", ["send_queue_limit"] = "64mb" });
        await using TestClient publisher = await cluster[0].HelloAsync("pub");
        await using TestClient atB = await cluster[1].HelloAsync("b");
        await using TestClient atC = await cluster[2].HelloAsync("c");
        await publisher.JoinAsync("order");
        await atB.JoinAsync("order");
        await atC.JoinAsync("order");
        await publisher.DrainAsync(TimeSpan.FromMilliseconds(300));
        await atB.DrainAsync(TimeSpan.FromMilliseconds(100));

        var received = new int[2];
        Task<string?> b = ReceiveInOrderAsync(atB, received, 0);
        Task<string?> c = ReceiveInOrderAsync(atC, received, 1);
        var clock = Stopwatch.StartNew();
        for (int sent = 0; sent < Messages; sent += Chunk)
        {
            while (sent - Math.Min(Volatile.Read(ref received[0]), Volatile.Read(ref received[1])) > Window)
            {
                if (b.IsCompleted || c.IsCompleted) break;
                await Task.Delay(5);
            }
            int first = sent;
            await publisher.SendAsync(buffer =>
            {
                Span<byte> payload = stackalloc byte[4];
                for (int i = first; i < first + Chunk; i++)
                {
                    BinaryPrimitives.WriteInt32BigEndian(payload, i);
                    ClientFrames.Publish(buffer, 0, "order", payload);
                }
            });
        }
        string? errorB = await b;
        string? errorC = await c;
        output.WriteLine($"{Messages} messages to two other nodes in {clock.ElapsedMilliseconds} ms");
        Assert.True(errorB is null, "node B: " + errorB);
        Assert.True(errorC is null, "node C: " + errorC);
        Assert.True(await atB.NothingWithinAsync(TimeSpan.FromMilliseconds(300)), "no message twice");
        Assert.True(await publisher.NothingWithinAsync(TimeSpan.FromMilliseconds(100)), "the publisher does not get its own messages");
    }

    /// <summary>Null when every message came once and in order, else what went wrong first.</summary>
    private static async Task<string?> ReceiveInOrderAsync(TestClient client, int[] progress, int slot)
    {
        int expected = 0;
        while (expected < Messages)
        {
            ServerMessage? message;
            try
            {
                message = await client.ReceiveAsync(TimeSpan.FromSeconds(15));
            }
            catch (TimeoutException)
            {
                return $"stalled after {expected} messages";
            }
            if (message is null) return $"closed after {expected} messages";
            if (message is not RoomMessage room) continue;
            int sequence = BinaryPrimitives.ReadInt32BigEndian(room.Payload);
            if (sequence != expected) return $"message {sequence} arrived where {expected} was due";
            Volatile.Write(ref progress[slot], ++expected);
        }
        return null;
    }
}
