using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// Checks that every room channel this node subscribed is really held by the Redis server that owns it: after a
/// failover or a reconnect the library may come back without one (seen with a master and a replica listed by hand:
/// the node silently stopped receiving a live room). Counts, per server, the channels the server reports for this
/// node's connections (CLIENT LIST, matched by the client name, `sub` or `ssub` on a cluster) against the rooms this
/// node holds there; a shortfall is a gap: counted (presenced_backplane_subscription_gaps_total), logged, the rooms
/// of that server subscribed again, and a resync asked for (what the room missed meanwhile is reloaded). Also retries
/// the SUBSCRIBEs that failed outright. The resync runs the same count before it reads its snapshots
/// (<see cref="EnsureHeldAsync"/>).
/// </summary>
internal sealed class SubscriptionAudit(RedisBackplane backplane)
{
    private long _nextAudit;

    /// <summary>Runs the audit when its interval is due (called from the maintenance tick while Redis is healthy).</summary>
    public async Task RunIfDueAsync()
    {
        long now = Environment.TickCount64;
        if (now < Volatile.Read(ref _nextAudit)) return;
        _nextAudit = now + (long)backplane.Options.SubscriptionAuditInterval.TotalMilliseconds;
        await backplane.Channels.RepairAsync(rooms: null).ConfigureAwait(false);
        await AuditAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Before a resync reads its snapshots: every room channel this node subscribed is held again by the server that
    /// owns it now. After a failover the library re-subscribes on the promoted master by itself, but not necessarily
    /// before the resync; a snapshot read while the subscription is still moving misses for good what is published in
    /// between (another node's replayed leave: its member stays a ghost here). So the rooms a server does not count are
    /// subscribed again and awaited first. Not counted as gaps (the library may only be late), logged; a server that
    /// still counts fewer afterwards is a gap. Throws when a SUBSCRIBE fails (Redis away again): the resync is retried.
    /// </summary>
    public async Task EnsureHeldAsync()
    {
        await backplane.Channels.RepairAsync(rooms: null).ConfigureAwait(false);
        List<Shortfall> shortfalls = await FindShortfallsAsync().ConfigureAwait(false);
        if (shortfalls.Count == 0) return;
        var repair = new HashSet<string>(StringComparer.Ordinal);
        foreach (Shortfall shortfall in shortfalls)
        {
            backplane.Logger.LogInformation("resync: redis {Server} holds {Held} of the {Expected} room channels this node subscribed there; subscribing them again before reading the snapshots",
                Format(shortfall.Server), shortfall.Held, shortfall.Rooms.Count);
            foreach (RedisRoomBroker room in shortfall.Rooms) repair.Add(room.Room.Name);
        }
        await backplane.Channels.RepairAsync(repair).ConfigureAwait(false);
        // Each SUBSCRIBE above was confirmed by its server, so a count still short is not a late library: a gap, as the
        // audit reports it. The resync goes on (a node must not stay resyncing on a count); the audit repairs it again.
        foreach (Shortfall shortfall in await FindShortfallsAsync().ConfigureAwait(false))
        {
            backplane.Health.CountSubscriptionGaps(shortfall.Rooms.Count - shortfall.Held);
            backplane.Logger.LogWarning("subscription gap on redis {Server}: it holds {Held} of the {Expected} room channels this node subscribed there, after subscribing them again",
                Format(shortfall.Server), shortfall.Held, shortfall.Rooms.Count);
        }
    }

    private async Task AuditAsync()
    {
        List<Shortfall> shortfalls = await FindShortfallsAsync().ConfigureAwait(false);
        if (shortfalls.Count == 0) return;
        int gaps = 0;
        var repair = new HashSet<string>(StringComparer.Ordinal);
        foreach (Shortfall shortfall in shortfalls)
        {
            int expected = shortfall.Rooms.Count;
            gaps += expected - shortfall.Held;
            backplane.Logger.LogWarning("subscription gap on redis {Server}: it holds {Held} of the {Expected} room channels this node subscribed there; subscribing those {Expected} rooms again",
                Format(shortfall.Server), shortfall.Held, expected, expected);
            foreach (RedisRoomBroker room in shortfall.Rooms) repair.Add(room.Room.Name);
        }
        backplane.Health.CountSubscriptionGaps(gaps);
        await backplane.Channels.RepairAsync(repair).ConfigureAwait(false);
        backplane.RequestResync();
    }

    /// <summary>The servers that count fewer of this node's room channels than it subscribed there, with those rooms.</summary>
    private async Task<List<Shortfall>> FindShortfallsAsync()
    {
        RedisGateway gateway = backplane.Gateway;
        // A room counts only if it was subscribed before and still is after the servers answered: one that opened or
        // closed meanwhile may or may not be in a server's count, and must not look like a gap.
        List<RedisRoomBroker> before = backplane.Channels.Subscribed();
        var byServer = new Dictionary<EndPoint, List<RedisRoomBroker>>();
        foreach (RedisRoomBroker broker in before)
        {
            IServer server = gateway.Multiplexer.GetServer((RedisKey)(string)broker.Keys.ChannelName!);
            if (!byServer.TryGetValue(server.EndPoint, out List<RedisRoomBroker>? rooms)) byServer[server.EndPoint] = rooms = [];
            rooms.Add(broker);
        }
        var held = new Dictionary<EndPoint, int>();
        foreach (EndPoint endPoint in byServer.Keys) held[endPoint] = await CountHeldAsync(gateway, endPoint).ConfigureAwait(false);
        var still = new HashSet<RedisRoomBroker>(backplane.Channels.Subscribed(), ReferenceEqualityComparer.Instance);
        var shortfalls = new List<Shortfall>();
        foreach ((EndPoint endPoint, List<RedisRoomBroker> rooms) in byServer)
        {
            List<RedisRoomBroker> expected = rooms.Where(still.Contains).ToList();
            if (held[endPoint] < expected.Count) shortfalls.Add(new Shortfall(endPoint, held[endPoint], expected));
        }
        return shortfalls;
    }

    /// <summary>The channels <paramref name="endPoint"/> counts for this node's connections (CLIENT LIST TYPE pubsub).</summary>
    private async Task<int> CountHeldAsync(RedisGateway gateway, EndPoint endPoint)
    {
        IServer server = gateway.Multiplexer.GetServer(endPoint);
        RedisResult list = await gateway.RunAsync(server, static (_, s) => s.ExecuteAsync("CLIENT", "LIST", "TYPE", "pubsub")).ConfigureAwait(false);
        string field = backplane.Deployment.IsCluster ? "ssub=" : "sub=";
        int held = 0;
        foreach (string line in ((string?)list ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] fields = line.Split(' ');
            if (!fields.Contains("name=" + gateway.ClientName, StringComparer.Ordinal)) continue;
            foreach (string f in fields)
            {
                if (f.StartsWith(field, StringComparison.Ordinal)) held += int.Parse(f.AsSpan(field.Length), CultureInfo.InvariantCulture);
            }
        }
        return held;
    }

    private static string Format(EndPoint endPoint) => endPoint is IPEndPoint ip ? ip.ToString() : endPoint.ToString() ?? "?";

    /// <summary>A server that counts <paramref name="Held"/> of this node's channels where it should hold those of <paramref name="Rooms"/>.</summary>
    private sealed record Shortfall(EndPoint Server, int Held, List<RedisRoomBroker> Rooms);
}
