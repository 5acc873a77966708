using System.Globalization;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Support.Deployments;

/// <summary>
/// A Redis Cluster of 3 masters and 3 replicas (`redis-server --cluster-enabled yes`, `redis-cli --cluster create
/// --cluster-replicas 1`). Each node's cluster bus port is reserved with its client port and given explicitly
/// (`--cluster-port`), so both are known free. The nodes get the seeds as a plain list and detect the cluster.
/// </summary>
public class ClusterRedis : TestRedis
{
    public const string Collection = "redis cluster";
    private const int Size = 6;

    private readonly int _nodeTimeoutMs;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "pd-cluster-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<RedisProcess> _nodes = [];

    public ClusterRedis() : this(nodeTimeoutMs: 10_000)
    {
    }

    /// <param name="nodeTimeoutMs">cluster-node-timeout: how long a silent master takes to be failed over. The shared
    /// cluster waits long, so a busy machine (or a resume after a pause) does not cause a failover in another test.</param>
    internal ClusterRedis(int nodeTimeoutMs) => _nodeTimeoutMs = nodeTimeoutMs;

    public override string Name => "cluster";

    /// <summary>Two of the masters' seeds, as a user lists them: the rest is discovered.</summary>
    public override string Endpoint => string.Join(',', _nodes.Take(2).Select(n => n.Endpoint));

    internal IReadOnlyList<RedisProcess> Nodes => _nodes;

    internal override IReadOnlyList<RedisProcess> Processes => _nodes;

    public override async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        for (int i = 0; i < Size; i++)
        {
            int port = Ports.Free();
            int bus = Ports.Free();
            _nodes.Add(await RedisProcess.StartAsync(port, [
                "--cluster-enabled", "yes",
                "--cluster-config-file", Path.Combine(_directory, $"nodes-{port}.conf"),
                "--cluster-port", bus.ToString(CultureInfo.InvariantCulture),
                "--cluster-node-timeout", _nodeTimeoutMs.ToString(CultureInfo.InvariantCulture),
                "--dir", _directory,
            ]));
        }
        await CreateAsync();
    }

    internal override async Task<IReadOnlyList<RedisProcess>> MastersAsync() =>
        [.. (await NodesTableAsync(_nodes.First(n => n.IsRunning))).Where(n => n.IsMaster && !n.Failed).Select(n => _nodes.Single(p => p.Port == n.Port))];

    /// <summary>The master serving <paramref name="slot"/> now.</summary>
    internal async Task<RedisProcess> MasterOfSlotAsync(int slot)
    {
        foreach (ClusterNode node in await NodesTableAsync(_nodes.First(n => n.IsRunning)))
        {
            if (node.IsMaster && !node.Failed && node.Slots.Any(r => r.From <= slot && slot <= r.To)) return _nodes.Single(p => p.Port == node.Port);
        }
        throw new InvalidOperationException($"no master serves slot {slot}");
    }

    /// <summary>
    /// Moves one slot, keys and all, from the master serving it to <paramref name="target"/>, the way `redis-cli --cluster
    /// reshard` moves each slot: IMPORTING on the target, MIGRATING on the source, MIGRATE of its keys in batches, then the
    /// new owner told to every master. Returns the source.
    /// </summary>
    internal async Task<RedisProcess> MigrateSlotAsync(int slot, RedisProcess target)
    {
        RedisProcess source = await MasterOfSlotAsync(slot);
        string sourceId = (await source.CommandAsync("CLUSTER", "MYID"))!;
        string targetId = (await target.CommandAsync("CLUSTER", "MYID"))!;
        string slotText = slot.ToString(CultureInfo.InvariantCulture);
        await target.RequestAsync("CLUSTER", "SETSLOT", slotText, "IMPORTING", sourceId);
        await source.RequestAsync("CLUSTER", "SETSLOT", slotText, "MIGRATING", targetId);
        while (true)
        {
            var keys = (List<object?>)(await source.RequestAsync("CLUSTER", "GETKEYSINSLOT", slotText, "100"))!;
            if (keys.Count == 0) break;
            await source.RequestAsync(["MIGRATE", "127.0.0.1", target.Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "REPLACE", "KEYS", .. keys.Select(k => (string)k!)]);
        }
        foreach (RedisProcess master in await MastersAsync()) await master.RequestAsync("CLUSTER", "SETSLOT", slotText, "NODE", targetId);
        return source;
    }

    internal override void Kill()
    {
        foreach (RedisProcess node in _nodes) node.Kill();
    }

    /// <summary>A new, empty cluster on the same ports: the nodes forget the old one (config files deleted) and are joined again.</summary>
    internal override async Task RestartEmptyAsync()
    {
        foreach (RedisProcess node in _nodes)
        {
            node.Kill();
            File.Delete(Path.Combine(_directory, $"nodes-{node.Port}.conf"));
        }
        foreach (RedisProcess node in _nodes) await node.RestartAsync();
        await CreateAsync();
    }

    /// <summary>cluster_state:ok on every node, 3 masters covering every slot and 3 connected replicas, the same table on all.</summary>
    internal override Task WaitHealthyAsync() =>
        Eventually.TrueAsync(async () =>
        {
            string? agreed = null;
            foreach (RedisProcess process in _nodes)
            {
                if (!process.IsRunning) return false;
                string info = await process.CommandAsync("CLUSTER", "INFO") ?? "";
                if (!info.Contains("cluster_state:ok", StringComparison.Ordinal) || !info.Contains("cluster_slots_ok:16384", StringComparison.Ordinal)) return false;
                List<ClusterNode> table = await NodesTableAsync(process);
                if (table.Count != Size || table.Any(n => n.Failed || !n.Connected) || table.Count(n => n.IsMaster) != Size / 2) return false;
                string view = string.Join(';', table.Where(n => n.IsMaster).OrderBy(n => n.Id, StringComparer.Ordinal).Select(n => n.Id + "=" + string.Join(',', n.Slots)));
                if (agreed is not null && agreed != view) return false;
                agreed = view;
            }
            foreach (ClusterNode replica in (await NodesTableAsync(_nodes[0])).Where(n => !n.IsMaster))
            {
                string? replication = await _nodes.Single(p => p.Port == replica.Port).CommandAsync("INFO", "replication");
                if (replication is null || !replication.Contains("master_link_status:up", StringComparison.Ordinal)) return false;
            }
            return true;
        }, "the Redis Cluster to be ok on every node (3 masters, 3 replicas, one agreed slot table)", TimeSpan.FromSeconds(40));

    internal static async Task<List<ClusterNode>> NodesTableAsync(RedisProcess process)
    {
        string text = await process.CommandAsync("CLUSTER", "NODES") ?? "";
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ClusterNode.Parse)];
    }

    protected override void DeleteFiles()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private async Task CreateAsync()
    {
        string cli = ChildProcess.Find("redis-cli") ?? "redis-cli";
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(cli,
            ["--cluster", "create", .. _nodes.Select(n => n.Endpoint), "--cluster-replicas", "1", "--cluster-yes"], TimeSpan.FromSeconds(60));
        if (exit != 0) throw new InvalidOperationException($"redis-cli --cluster create failed ({exit}): {stdout}\n{stderr}");
        await WaitHealthyAsync();
    }

    /// <summary>One line of CLUSTER NODES.</summary>
    internal sealed record ClusterNode(string Id, int Port, bool IsMaster, bool Failed, bool Connected, List<(int From, int To)> Slots)
    {
        public static ClusterNode Parse(string line)
        {
            string[] f = line.Split(' ');
            string address = f[1].Split('@')[0];
            int port = int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
            string[] flags = f[2].Split(',');
            var slots = new List<(int, int)>();
            foreach (string range in f.Skip(8).Where(s => !s.StartsWith('[')))
            {
                string[] ends = range.Split('-');
                int from = int.Parse(ends[0], CultureInfo.InvariantCulture);
                slots.Add((from, ends.Length > 1 ? int.Parse(ends[1], CultureInfo.InvariantCulture) : from));
            }
            return new ClusterNode(f[0], port, flags.Contains("master"), flags.Contains("fail") || flags.Contains("fail?"), f[7] == "connected", slots);
        }

        public override string ToString() => $"{Id}:{Port}";
    }
}

[CollectionDefinition(ClusterRedis.Collection)]
public sealed class ClusterRedisCollection : ICollectionFixture<ClusterRedis>;
