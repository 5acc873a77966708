namespace PresenceD.Server.Backplane;

/// <summary>Which kind of Redis the `redis` setting reached, as detected from the servers' answers at connect.</summary>
internal enum RedisDeploymentKind
{
    /// <summary>One server (or a master with replicas listed by hand): plain pub/sub, one clock key.</summary>
    SingleServer,
    /// <summary>A master found through Sentinels (`serviceName=`): as a single server, the library follows failovers.</summary>
    Sentinel,
    /// <summary>A Redis Cluster: sharded pub/sub, every script's keys in one slot, one clock per slot.</summary>
    Cluster,
}

/// <summary>The deployment in use and how keys and channels are named on it.</summary>
internal sealed class RedisDeployment
{
    private const string GlobalClock = "pd:clock";

    public RedisDeployment(RedisDeploymentKind kind, string? serviceName, int masters)
    {
        Kind = kind;
        ServiceName = serviceName;
        Masters = masters;
        Scripts = new LuaScripts(sharded: IsCluster);
    }

    public RedisDeploymentKind Kind { get; }

    public string? ServiceName { get; }

    /// <summary>Masters seen at connect (cluster: the shards).</summary>
    public int Masters { get; }

    public bool IsCluster => Kind == RedisDeploymentKind.Cluster;

    public LuaScripts Scripts { get; }

    /// <summary>For the start line and /readyz: `Redis (cluster, 3 masters)`, `Redis (sentinel mymaster)`, `Redis (single server)`.</summary>
    public string Description => Kind switch
    {
        RedisDeploymentKind.Cluster => $"Redis (cluster, {Masters} master{(Masters == 1 ? "" : "s")})",
        RedisDeploymentKind.Sentinel => $"Redis (sentinel {ServiceName})",
        _ => "Redis (single server)",
    };

    /// <summary>The clock of the slot holding <paramref name="key"/> on a cluster; the server's one clock otherwise (same semantics as before clusters).</summary>
    public string ClockFor(string key) => IsCluster ? HashSlots.ClockKey(key) : GlobalClock;

    public RoomKeys Room(string room) => new(room, this);

    /// <summary>The online set of a user (conn -> expiry): `pd:u:{user}`.</summary>
    public static string OnlineKey(string user) => "pd:u:" + HashSlots.Tag(user);
}
