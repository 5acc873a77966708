namespace PresenceD.Cluster.Tests.Support;

/// <summary>A redis-server and N presenced nodes sharing it, with short heartbeat and sweep settings.</summary>
internal sealed class ClusterFixture : IAsyncDisposable
{
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(500);

    private ClusterFixture(RedisProcess redis, List<NodeProcess> nodes)
    {
        Redis = redis;
        Nodes = nodes;
    }

    public RedisProcess Redis { get; }

    public List<NodeProcess> Nodes { get; }

    public NodeProcess this[int index] => Nodes[index];

    public static async Task<ClusterFixture> StartAsync(int nodes, IReadOnlyDictionary<string, string>? extra = null)
    {
        RedisProcess redis = await RedisProcess.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["heartbeat_interval"] = "1s",
            ["heartbeat_timeout"] = "3s",
            ["sweep_interval"] = "500ms",
            ["redis_timeout"] = "500ms",
            ["timer_tick"] = "50ms",
            ["history_rooms"] = "h-*",
            ["history_size"] = "100",
            ["log_level"] = "debug",
        };
        foreach ((string key, string value) in extra ?? new Dictionary<string, string>()) settings[key] = value;
        var started = new List<NodeProcess>();
        try
        {
            Task<NodeProcess>[] starting = Enumerable.Range(0, nodes)
                .Select(i => NodeProcess.StartAsync("node" + (char)('A' + i), redis.Endpoint, settings)).ToArray();
            started.AddRange(await Task.WhenAll(starting));
        }
        catch
        {
            foreach (NodeProcess node in started) node.Dispose();
            redis.Dispose();
            throw;
        }
        return new ClusterFixture(redis, started);
    }

    public ValueTask DisposeAsync()
    {
        foreach (NodeProcess node in Nodes) node.Dispose();
        Redis.Dispose();
        return ValueTask.CompletedTask;
    }
}
