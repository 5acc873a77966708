using System.Text;
using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Sessions;

/// <summary>
/// A resumable session dropped on one node and resumed through another (docs/cluster.md, "Resumable sessions in a
/// cluster"): the old node hands it over, so nobody sees a diff or a will, and the resumed member gets every message
/// sent while it was away once, in order, and the new node owns it from then on. Real nodes, real Redis.
/// </summary>
public abstract class CrossNodeResumeTests(TestRedis redis)
{
    private static readonly TimeSpan KeepAlive = ClusterFixture.KeepAlive;

    private static string Text(RoomMessage m) => Encoding.UTF8.GetString(m.Payload);

    /// <summary>Watchers on node A and node B and alice (resumable, with a will) on node A, all in <paramref name="room"/>, every join seen.</summary>
    private static async Task<(TestClient OnA, TestClient OnB, TestClient Alice)> RoomAsync(ClusterFixture cluster, string room)
    {
        TestClient onA = await TestClient.HelloAsync(cluster[0].EndPoint, "wa", keepAlive: KeepAlive);
        TestClient onB = await TestClient.HelloAsync(cluster[1].EndPoint, "wb", keepAlive: KeepAlive);
        TestClient alice = await TestClient.HelloAsync(cluster[0].EndPoint, "alice", keepAlive: KeepAlive, resume: "");
        await onA.JoinAsync(room);
        await onB.JoinAsync(room);
        await alice.SendAsync(b => ClientFrames.Join(b, 2, room, "m1"u8, hasMeta: true, will: "gone"u8, hasWill: true));
        await alice.ExpectAsync<JoinedMessage>();
        // Each watcher sees the two others join (the other watcher maybe in its JOINED already): wait until both know all three.
        foreach (TestClient watcher in new[] { onA, onB })
        {
            await Eventually.TrueAsync(async () =>
            {
                await watcher.SendAsync(b => ClientFrames.Presence(b, 50, room));
                List<ServerMessage> got = await watcher.ReceiveUntilAsync(m => m is PresenceStateMessage, "PRESENCE_STATE");
                return ((PresenceStateMessage)got[^1]).Total == 3;
            }, "each watcher to see three members");
            await watcher.DrainAsync(TimeSpan.FromMilliseconds(300));
        }
        return (onA, onB, alice);
    }

    private static async Task DropAsync(ClusterFixture cluster, TestClient client, bool reset)
    {
        string conn = client.Conn;
        int from = cluster[0].Lines.Count;
        if (reset) client.Abort();
        else await client.DisposeAsync();
        await cluster[0].WaitForLineAsync(TimeSpan.FromSeconds(10), from, "conn " + conn + " ", "closed:");
    }

    private static async Task PublishAsync(TestClient from, string room, int count, string prefix)
    {
        for (int i = 0; i < count; i++)
        {
            int n = i;
            await from.SendAsync(b => ClientFrames.Publish(b, (uint)(100 + n), room, Encoding.UTF8.GetBytes(prefix + n)));
            // The other watcher's messages may come first.
            await from.ReceiveUntilAsync(m => m is OkMessage, "OK");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_member_dropped_on_one_node_resumes_on_another_with_every_held_message_once_and_nobody_sees_a_diff(bool reset)
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2);
        (TestClient onA, TestClient onB, TestClient alice) = await RoomAsync(cluster, "r");
        await using (onA)
        await using (onB)
        {
            WelcomeMessage first = alice.Welcome!;
            await DropAsync(cluster, alice, reset);
            await PublishAsync(onA, "r", 10, "a-");
            await PublishAsync(onB, "r", 10, "b-");

            await using TestClient back = await TestClient.HelloAsync(cluster[1].EndPoint, "alice", keepAlive: KeepAlive, resume: first.ResumeToken);
            Assert.True(back.Welcome!.Resumed, "the HELLO on node B resumed the session of node A");
            Assert.Equal(first.Conn, back.Welcome.Conn);
            Assert.NotEqual(first.ResumeToken, back.Welcome.ResumeToken);
            var got = new List<string>();
            for (int i = 0; i < 20; i++) got.Add(Text(await back.ExpectAsync<RoomMessage>()));
            Assert.Equal(Enumerable.Range(0, 10).Select(n => "a-" + n), got.Where(t => t.StartsWith("a-", StringComparison.Ordinal)));
            Assert.Equal(Enumerable.Range(0, 10).Select(n => "b-" + n), got.Where(t => t.StartsWith("b-", StringComparison.Ordinal)));
            Assert.True(await back.NothingWithinAsync(TimeSpan.FromMilliseconds(300)), "every held message came once");

            // Nobody saw alice leave, come back, or her will: the watchers got the other's messages, nothing else.
            foreach (TestClient watcher in new[] { onA, onB })
            {
                List<ServerMessage> quiet = await watcher.DrainAsync(TimeSpan.FromMilliseconds(300));
                Assert.All(quiet, m => Assert.True(m is RoomMessage rm && Text(rm) != "gone", "not a diff or a will: " + TestClient.Describe(m)));
            }

            // Live on node B: the rooms and meta are hers, messages from both nodes reach her once, hers reach both.
            await PublishAsync(onA, "r", 1, "a-new-");
            await PublishAsync(onB, "r", 1, "b-new-");
            Assert.Equal(["a-new-0", "b-new-0"], new[] { Text(await back.ExpectAsync<RoomMessage>()), Text(await back.ExpectAsync<RoomMessage>()) }.Order());
            await back.SendAsync(b => ClientFrames.Publish(b, 7, "r", "hi"u8.ToArray()));
            Assert.IsType<OkMessage>(await back.ReceiveAsync());
            foreach (TestClient watcher in new[] { onA, onB })
            {
                // After the other watcher's "new" message, maybe.
                List<ServerMessage> upToHers = await watcher.ReceiveUntilAsync(m => m is RoomMessage rm && rm.FromUser == "alice", "alice's message");
                var hers = (RoomMessage)upToHers[^1];
                Assert.Equal(("alice", first.Conn, "hi"), (hers.FromUser, hers.FromConn, Text(hers)));
            }
            await back.SendAsync(b => ClientFrames.Presence(b, 8, "r"));
            PresenceStateMessage state = Assert.IsType<PresenceStateMessage>(await back.ReceiveAsync());
            Member self = Assert.Single(state.Members, m => m.Conn == first.Conn);
            Assert.Equal("m1"u8.ToArray(), self.Meta);
            Assert.Equal(3, state.Total);

            // Node A's crash does not take her along: node B owns her entries now. Node A's watcher vanishes (the sweep that
            // removes its entry would remove hers with it), and she stays.
            await cluster[0].KillAsync();
            List<ServerMessage> afterCrash = await onB.ReceiveUntilAsync(m => m is PresenceDiffMessage d && d.Leaves.Any(l => l.Conn == onA.Conn), "node A's watcher to vanish",
                TimeSpan.FromSeconds(15));
            afterCrash.AddRange(await onB.DrainAsync(TimeSpan.FromSeconds(1)));
            Assert.DoesNotContain(afterCrash, m => m is PresenceDiffMessage d && d.Leaves.Any(l => l.Conn == first.Conn));
            Assert.DoesNotContain(afterCrash, m => m is RoomMessage rm && Text(rm) == "gone");

            // Her BYE is one leave, without the will.
            await back.SendAsync(b => ClientFrames.Bye(b));
            List<ServerMessage> seen = await onB.ReceiveUntilAsync(m => m is PresenceDiffMessage d && d.Leaves.Any(l => l.Conn == first.Conn), "alice's leave");
            Assert.DoesNotContain(seen, m => m is RoomMessage rm && Text(rm) == "gone");
        }
    }

    [Fact]
    public async Task Messages_published_on_every_node_during_the_hand_over_reach_the_resumed_member_once_in_order()
    {
        // Room enough to hold the flood for the hand-over's few milliseconds.
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 3, new Dictionary<string, string> { ["resume_buffer"] = "4mb", ["send_queue_limit"] = "16mb" });
        (TestClient onA, TestClient onB, TestClient alice) = await RoomAsync(cluster, "r");
        await using (onA)
        await using (onB)
        await using (TestClient onC = await TestClient.HelloAsync(cluster[2].EndPoint, "wc", keepAlive: KeepAlive))
        {
            await onC.JoinAsync("r");
            WelcomeMessage first = alice.Welcome!;
            await DropAsync(cluster, alice, reset: true);
            // Every watcher publishes without pause (rid 0: no answers to wait for) until told to stop, while alice
            // resumes on node B: the old node's frames, the new node's own, and a third node's, each cut its own way.
            using var stop = new CancellationTokenSource();
            TestClient[] publishers = [onA, onB, onC];
            var progress = new int[publishers.Length];
            Task<int>[] floods = [.. publishers.Select((p, i) => FloodAsync(p, ((char)('a' + i)).ToString(), progress, i, stop.Token))];
            await Eventually.TrueAsync(() => progress.All(p => Volatile.Read(ref p) > 50), "every flood under way");
            await using TestClient back = await TestClient.HelloAsync(cluster[1].EndPoint, "alice", keepAlive: KeepAlive, resume: first.ResumeToken);
            Assert.True(back.Welcome!.Resumed);
            int[] atResume = [.. progress.Select(p => Volatile.Read(ref p))];
            await Eventually.TrueAsync(() => progress.Select((p, i) => Volatile.Read(ref p) > atResume[i] + 100).All(x => x), "every flood to go on past the resume");
            await stop.CancelAsync();
            int[] sent = await Task.WhenAll(floods);
            // The last of each watcher's messages comes last: read until all are in, then check each sequence.
            List<int>[] got = [[], [], []];
            await back.ReceiveUntilAsync(m =>
            {
                if (m is RoomMessage rm)
                {
                    string text = Text(rm);
                    got[text[0] - 'a'].Add(int.Parse(text.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture));
                }
                return got.Select((g, i) => g.Count > 0 && g[^1] == sent[i] - 1).All(x => x);
            }, "the last message of each watcher", TimeSpan.FromSeconds(20));
            // Held from the drop's notice on, then live: from its first message on, each watcher's arrive gapless and once.
            for (int i = 0; i < got.Length; i++) Assert.Equal(Enumerable.Range(got[i][0], sent[i] - got[i][0]), got[i]);
            Assert.True(await back.NothingWithinAsync(TimeSpan.FromMilliseconds(300)));
            // The watchers saw wc join, and nothing of alice: no diff, no will.
            foreach (TestClient watcher in publishers)
            {
                List<ServerMessage> seen = await watcher.DrainAsync(TimeSpan.FromMilliseconds(300));
                Assert.DoesNotContain(seen, m => m is PresenceDiffMessage d && d.Joins.Concat(d.Leaves).Any(x => x.Conn == first.Conn));
                Assert.DoesNotContain(seen, m => m is RoomMessage rm && Text(rm) == "gone");
            }
        }
    }

    /// <summary>Publishes prefix-0, prefix-1... (rid 0, ten to a write) until <paramref name="stop"/>, counting in progress[slot]; returns how many.</summary>
    private static async Task<int> FloodAsync(TestClient from, string prefix, int[] progress, int slot, CancellationToken stop)
    {
        int sent = 0;
        while (!stop.IsCancellationRequested)
        {
            int first = sent;
            await from.SendAsync(b =>
            {
                for (int n = first; n < first + 10; n++) ClientFrames.Publish(b, 0, "r", Encoding.UTF8.GetBytes(prefix + "-" + n));
            });
            sent += 10;
            Volatile.Write(ref progress[slot], sent);
            // A pace the nodes keep up with on two cores (the test is about the cut, not about overload).
            if (sent % 50 == 0) await Task.Delay(1, CancellationToken.None);
        }
        return sent;
    }

    [Fact]
    public async Task Of_two_resumes_at_once_on_two_nodes_exactly_one_wins_and_the_other_gets_a_fresh_session()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 3);
        (TestClient onA, TestClient onB, TestClient alice) = await RoomAsync(cluster, "r");
        await using (onA)
        await using (onB)
        {
            WelcomeMessage first = alice.Welcome!;
            await DropAsync(cluster, alice, reset: true);
            Task<TestClient> onNodeB = TestClient.HelloAsync(cluster[1].EndPoint, "alice", keepAlive: KeepAlive, resume: first.ResumeToken);
            Task<TestClient> onNodeC = TestClient.HelloAsync(cluster[2].EndPoint, "alice", keepAlive: KeepAlive, resume: first.ResumeToken);
            await using TestClient b = await onNodeB;
            await using TestClient c = await onNodeC;
            Assert.Equal(1, new[] { b, c }.Count(x => x.Welcome!.Resumed));
            TestClient loser = b.Welcome!.Resumed ? c : b;
            Assert.NotEqual(first.Conn, loser.Welcome!.Conn);
            Assert.Equal(first.Conn, (b.Welcome.Resumed ? b : c).Welcome!.Conn);
            Assert.True(await onB.NothingWithinAsync(TimeSpan.FromMilliseconds(500)), "no diff: the winner holds alice's membership");
        }
    }

    [Fact]
    public async Task A_session_whose_node_was_killed_cannot_resume_elsewhere_and_ends_once_with_its_will()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 2, new Dictionary<string, string> { ["resume_handover_timeout"] = "1s" });
        (TestClient onA, TestClient onB, TestClient alice) = await RoomAsync(cluster, "r");
        await using (onA)
        await using (onB)
        {
            WelcomeMessage first = alice.Welcome!;
            await DropAsync(cluster, alice, reset: true);
            await cluster[0].KillAsync();
            await using TestClient back = await TestClient.HelloAsync(cluster[1].EndPoint, "alice", keepAlive: KeepAlive, resume: first.ResumeToken);
            Assert.False(back.Welcome!.Resumed, "a dead node's session cannot be taken over");
            Assert.NotEqual(first.Conn, back.Welcome.Conn);
            // Node A's members vanish as for any crash: alice's will, then her leave, once (and node A's watcher's leave).
            List<ServerMessage> seen = await onB.ReceiveUntilAsync(m => m is PresenceDiffMessage d && d.Leaves.Any(l => l.Conn == first.Conn), "alice's leave",
                TimeSpan.FromSeconds(15));
            Assert.Single(seen, m => m is RoomMessage rm && Text(rm) == "gone");
            seen.AddRange(await onB.DrainAsync(TimeSpan.FromMilliseconds(1500)));
            Assert.Single(seen.OfType<PresenceDiffMessage>().SelectMany(d => d.Leaves), l => l.Conn == first.Conn);
            Assert.Single(seen, m => m is RoomMessage rm && Text(rm) == "gone");
        }
    }
}

[Collection(SingleRedis.Collection)]
public sealed class CrossNodeResumeTestsOnSingleRedis(SingleRedis redis) : CrossNodeResumeTests(redis);

[Collection(ClusterRedis.Collection)]
public sealed class CrossNodeResumeTestsOnRedisCluster(ClusterRedis redis) : CrossNodeResumeTests(redis);
