using PresenceD.Cluster.Tests.Support.Deployments;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Support;

/// <summary>N presenced nodes sharing a Redis deployment (emptied first), with short heartbeat and sweep settings.</summary>
internal sealed class ClusterFixture : IAsyncDisposable
{
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the tests' clients ping: well inside <see cref="HeartbeatTimeout"/> (presence expiry follows it).</summary>
    public static readonly TimeSpan KeepAlive = TimeSpan.FromMilliseconds(700);

    private ClusterFixture(TestRedis redis, List<DaemonProcess> nodes)
    {
        Redis = redis;
        Nodes = nodes;
    }

    /// <summary>The deployment, shared with the other tests of the collection: a test that breaks it leaves it whole again or to the next reset.</summary>
    public TestRedis Redis { get; }

    public List<DaemonProcess> Nodes { get; }

    public DaemonProcess this[int index] => Nodes[index];

    /// <param name="perNode">Settings of node i on top of the others (e.g. its own admin_port).</param>
    public static async Task<ClusterFixture> StartAsync(TestRedis redis, int nodes, IReadOnlyDictionary<string, string>? extra = null, Func<int, IReadOnlyDictionary<string, string>>? perNode = null)
    {
        await redis.ResetAsync();
        var settings = new Dictionary<string, string>
        {
            ["heartbeat_interval"] = "1s",
            ["heartbeat_timeout"] = "3s",
            ["sweep_interval"] = "500ms",
            ["subscription_audit_interval"] = "1s",
            ["redis_timeout"] = "500ms",
            ["timer_tick"] = "50ms",
            ["history_rooms"] = "h-*",
            ["history_size"] = "100",
            ["log_level"] = "debug",
            ["backplane"] = "redis",
            ["redis"] = redis.Endpoint,
        };
        foreach ((string key, string value) in extra ?? new Dictionary<string, string>()) settings[key] = value;
        Task<DaemonProcess>[] starting = Enumerable.Range(0, nodes)
            .Select(i => StartNodeAsync("node" + (char)('A' + i), perNode is null ? settings : Overlay(settings, perNode(i))))
            .ToArray();
        try
        {
            List<DaemonProcess> started = [.. await Task.WhenAll(starting)];
            await Task.WhenAll(started.Select(WaitForBackplaneAsync));
            return new ClusterFixture(redis, started);
        }
        catch
        {
            foreach (Task<DaemonProcess> node in starting)
            {
                if (node.IsCompletedSuccessfully) await node.Result.DisposeAsync();
            }
            throw;
        }
    }

    // Node i's own settings replace the shared ones of the same name (e.g. its own redis, through a proxy).
    private static Dictionary<string, string> Overlay(Dictionary<string, string> shared, IReadOnlyDictionary<string, string> own)
    {
        var settings = new Dictionary<string, string>(shared);
        foreach ((string key, string value) in own) settings[key] = value;
        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (DaemonProcess node in Nodes) await node.DisposeAsync();
    }

    /// <summary>
    /// Waits until the node's backplane is up. A node whose Redis calls timed out (during its warm-up, on a busy
    /// machine) serves only its own members until it resyncs, and the tests count on one cluster from the start.
    /// </summary>
    private static Task WaitForBackplaneAsync(DaemonProcess node) =>
        Eventually.TrueAsync(() =>
        {
            string[] lines = [.. node.Lines];
            int down = Array.FindLastIndex(lines, l => l.Contains("redis unavailable", StringComparison.Ordinal) || l.Contains("starting degraded", StringComparison.Ordinal));
            return down < Array.FindLastIndex(lines, l => l.Contains("resync done", StringComparison.Ordinal)) || down < 0;
        }, $"{node.Name}'s backplane to be up (no \"redis unavailable\" after its last \"resync done\")", TimeSpan.FromSeconds(20), () => "output:\n" + node.Output);

    private static Task<DaemonProcess> StartNodeAsync(string nodeId, Dictionary<string, string> settings) =>
        DaemonProcess.StartAsync(new DaemonSetup
        {
            Name = nodeId,
            Arguments = [.. settings.Append(new("node_id", nodeId)).SelectMany(s => new[] { "--" + s.Key, s.Value })],
            KeepLogFile = true,
        });
}
