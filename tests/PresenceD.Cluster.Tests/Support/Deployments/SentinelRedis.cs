using System.Globalization;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Support.Deployments;

/// <summary>
/// A Sentinel set: one master, one replica, three `redis-server --sentinel` watching them (quorum 2). The nodes reach
/// the master through the Sentinels (`serviceName=`), so a failover moves them to the promoted replica.
/// </summary>
public class SentinelRedis : TestRedis
{
    public const string Collection = "redis sentinel";
    public const string Service = "mymaster";

    private readonly int _downAfterMs;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "pd-sentinel-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<RedisProcess> _sentinels = [];
    private RedisProcess? _master;
    private RedisProcess? _replica;

    public SentinelRedis() : this(downAfterMs: 5000)
    {
    }

    /// <param name="downAfterMs">Sentinel's down-after-milliseconds: how long a silent master takes to be failed over.
    /// The shared set waits long, so a busy machine does not cause a failover in a test about something else.</param>
    internal SentinelRedis(int downAfterMs) => _downAfterMs = downAfterMs;

    public override string Name => "sentinel";

    /// <summary>The Sentinels, as a user writes them (the alias form; the serviceName= form is tested with the setting).</summary>
    public override string Endpoint => "sentinel://" + string.Join(',', _sentinels.Select(s => s.Endpoint)) + "/" + Service;

    internal IReadOnlyList<RedisProcess> Sentinels => _sentinels;

    internal IReadOnlyList<RedisProcess> DataNodes => [_master!, _replica!];

    internal override IReadOnlyList<RedisProcess> Processes => _master is null ? [] : [_master, _replica!, .. _sentinels];

    public override async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        int masterPort = Ports.Free();
        _master = await RedisProcess.StartAsync(masterPort, []);
        _replica = await RedisProcess.StartAsync(Ports.Free(), ["--replicaof", "127.0.0.1", masterPort.ToString(CultureInfo.InvariantCulture)]);
        for (int i = 0; i < 3; i++)
        {
            string config = Path.Combine(_directory, $"sentinel-{i}.conf");
            await File.WriteAllTextAsync(config,
                $"sentinel monitor {Service} 127.0.0.1 {masterPort} 2\n" +
                $"sentinel down-after-milliseconds {Service} {_downAfterMs}\n" +
                $"sentinel failover-timeout {Service} 10000\n" +
                $"sentinel parallel-syncs {Service} 1\n");
            _sentinels.Add(await RedisProcess.StartAsync(Ports.Free(), [config, "--sentinel"]));
        }
        await WaitHealthyAsync();
    }

    internal override async Task<IReadOnlyList<RedisProcess>> MastersAsync()
    {
        int port = await MasterPortAsync(_sentinels.First(s => s.IsRunning));
        return [DataNodes.Single(d => d.Port == port)];
    }

    internal override void Kill()
    {
        foreach (RedisProcess sentinel in _sentinels) sentinel.Pause();
        foreach (RedisProcess node in DataNodes) node.Kill();
    }

    internal override async Task RestartEmptyAsync()
    {
        // In their first roles: the Sentinels were paused since the kill and still name the first master.
        await _master!.RestartAsync();
        await _replica!.RestartAsync();
        foreach (RedisProcess sentinel in _sentinels) sentinel.Resume();
        await WaitHealthyAsync();
    }

    internal override Task WaitHealthyAsync() =>
        Eventually.TrueAsync(async () =>
        {
            if (!DataNodes.All(n => n.IsRunning)) return false;
            var masters = new HashSet<int>();
            foreach (RedisProcess sentinel in _sentinels)
            {
                Dictionary<string, string> master = Fields(await sentinel.RequestAsync("SENTINEL", "MASTER", Service));
                if (master["flags"] != "master" || master["num-slaves"] == "0" || master["num-other-sentinels"] != "2") return false;
                masters.Add(int.Parse(master["port"], CultureInfo.InvariantCulture));
            }
            if (masters.Count != 1) return false;
            RedisProcess current = DataNodes.Single(d => d.Port == masters.Single());
            RedisProcess other = DataNodes.Single(d => d != current);
            string? replication = await other.CommandAsync("INFO", "replication");
            return replication is not null && replication.Contains("master_link_status:up", StringComparison.Ordinal)
                && replication.Contains($"master_port:{current.Port}", StringComparison.Ordinal);
        }, "the Sentinels to agree on one master with its replica attached", TimeSpan.FromSeconds(30));

    /// <summary>The master's port as <paramref name="sentinel"/> names it now.</summary>
    internal static async Task<int> MasterPortAsync(RedisProcess sentinel)
    {
        var address = (List<object?>)(await sentinel.RequestAsync("SENTINEL", "GET-MASTER-ADDR-BY-NAME", Service))!;
        return int.Parse((string)address[1]!, CultureInfo.InvariantCulture);
    }

    protected override void DeleteFiles()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private static Dictionary<string, string> Fields(object? reply)
    {
        var list = (List<object?>)reply!;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < list.Count; i += 2) fields[(string)list[i]!] = Resp.Text(list[i + 1]) ?? "";
        return fields;
    }
}

[CollectionDefinition(SentinelRedis.Collection)]
public sealed class SentinelRedisCollection : ICollectionFixture<SentinelRedis>;
