using PresenceD.Cluster.Tests.Support;
using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Backplane;

/// <summary>
/// The subscription audit (and the resync, before its snapshots) compares the channels each Redis server counts for
/// this node's connections with the rooms it subscribed there, so those counts must be of room channels only: the
/// library's own configuration channel, once counted on every subscription connection, hid a missing room channel
/// (one room: 1 held of 1 expected while the room's channel was not re-subscribed yet after a Sentinel failover).
/// </summary>
public abstract class SubscriptionAuditTests(TestRedis redis)
{
    [Fact]
    public async Task A_node_holds_exactly_one_channel_per_room_it_subscribed_nothing_else()
    {
        await using ClusterFixture cluster = await ClusterFixture.StartAsync(redis, 1);
        await using TestClient alice = await cluster[0].HelloAsync("alice");
        foreach (string room in new[] { "r1", "r2", "r3" }) await alice.JoinAsync(room);
        (int Held, string Clients) seen = (-1, "");
        await Eventually.TrueAsync(async () => (seen = await HeldByNodeAsync("presenced-" + cluster[0].Name)).Held == 4,
            "the masters to count exactly the 3 room channels and the node's own channel (pd:n:, for cross-node resumes) for the node's connections", TimeSpan.FromSeconds(10),
            () => $"held {seen.Held}; the node's pubsub connections as the masters list them:\n{seen.Clients}");
    }

    /// <summary>Every channel the masters count for the connections named <paramref name="clientName"/>, and their CLIENT LIST lines.</summary>
    private async Task<(int Held, string Clients)> HeldByNodeAsync(string clientName)
    {
        int held = 0;
        string clients = "";
        foreach (RedisProcess master in await redis.MastersAsync())
        {
            (int Held, string Clients) seen = await master.ChannelsHeldByAsync(clientName);
            held += seen.Held;
            clients += seen.Clients;
        }
        return (held, clients);
    }
}

[Collection(SingleRedis.Collection)]
public sealed class SubscriptionAuditTestsOnSingleRedis(SingleRedis redis) : SubscriptionAuditTests(redis);

[Collection(SentinelRedis.Collection)]
public sealed class SubscriptionAuditTestsOnSentinel(SentinelRedis redis) : SubscriptionAuditTests(redis);

[Collection(ClusterRedis.Collection)]
public sealed class SubscriptionAuditTestsOnRedisCluster(ClusterRedis redis) : SubscriptionAuditTests(redis);
