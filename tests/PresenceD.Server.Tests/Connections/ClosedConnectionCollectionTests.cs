using System.Runtime.CompilerServices;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Connections;

/// <summary>
/// Issue 17, hole 5 (memory creeps under churn): a closed connection must be reclaimed by the next collection,
/// not kept alive by something finalizable until the finalizer thread gets to it (by then a busy server has
/// promoted the whole connection to gen 2, which is the creep). The finalizer thread is held for the test, so
/// whatever only a finalizer would release stays visible; the connections are watched through long weak
/// references, which see an object until its memory is really reclaimed.
/// </summary>
public sealed class ClosedConnectionCollectionTests
{
    private const int Count = 2000;

    // A closed connection may still sit on some thread's stack for a moment (the last one a loop handled).
    private const int TransientlyHeld = Count / 100;

    [Fact]
    public async Task Two_thousand_closed_connections_are_reclaimed_without_waiting_for_any_finalizer()
    {
        await using TestServer server = TestServer.Start();
        ConnectionRegistry registry = server.Server.Connections.Registry;
        var watched = new List<WeakReference>(Count);
        var seen = new HashSet<long>();
        using FinalizerHold hold = FinalizerHold.Take();
        for (int i = 0; i < Count; i += 100)
        {
            TestClient[] clients = await Task.WhenAll(Enumerable.Range(i, 100).Select(async k =>
            {
                TestClient client = await server.HelloAsync("churn" + k);
                await client.SendAsync(f => ClientFrames.Join(f, 2, "room" + (k % 50)));
                await client.ExpectAsync<JoinedMessage>();
                return client;
            }));
            Watch(registry, seen, watched);
            // Half leave with BYE (the server's lingering close), half just drop the socket.
            await Task.WhenAll(clients.Select(async (c, k) =>
            {
                if (k % 2 == 0) await c.SendAsync(f => ClientFrames.Bye(f));
                await c.DisposeAsync();
            }));
        }
        await Eventually.TrueAsync(() => registry.Live == 0, "every socket closed on the server", TimeSpan.FromSeconds(30),
            () => $"{registry.Live} still open");

        int alive = CountAliveAfterCollection(watched);

        Assert.Equal(Count, watched.Count);
        Assert.True(alive <= TransientlyHeld, $"{alive} of {watched.Count} closed connections survived a full collection");
    }

    /// <summary>Adds a long weak reference to every open connection not watched yet (no strong reference stays on this stack).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Watch(ConnectionRegistry registry, HashSet<long> seen, List<WeakReference> watched)
    {
        foreach (Connection connection in registry.All)
        {
            if (seen.Add(connection.Id)) watched.Add(new WeakReference(connection, trackResurrection: true));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int CountAliveAfterCollection(List<WeakReference> watched)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return watched.Count(w => w.IsAlive);
    }

    /// <summary>
    /// Holds the finalizer thread inside the finalizer of an object of its own until disposed, so no other
    /// finalizer runs meanwhile. Every test in this process keeps working; only finalizable garbage waits.
    /// </summary>
    private sealed class FinalizerHold : IDisposable
    {
        private readonly ManualResetEventSlim _entered = new();
        private readonly ManualResetEventSlim _release = new();

        public static FinalizerHold Take()
        {
            var hold = new FinalizerHold();
            Abandon(hold);
            GC.Collect();
            Assert.True(hold._entered.Wait(TimeSpan.FromSeconds(30)), "the finalizer thread never reached the hold");
            return hold;
        }

        public void Dispose() => _release.Set();

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Abandon(FinalizerHold hold) => _ = new Blocker(hold._entered, hold._release);

        private sealed class Blocker(ManualResetEventSlim entered, ManualResetEventSlim release)
        {
            ~Blocker()
            {
                entered.Set();
                release.Wait();
            }
        }
    }
}
