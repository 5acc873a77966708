using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Support.Deployments;

/// <summary>
/// A Redis deployment the cluster tests run against: started once per test collection and shared by its classes
/// (each test starts on an emptied one, see <see cref="ResetAsync"/>), stopped at the end. The operations are what the
/// tests do to "Redis" whatever it is made of: kill it all, bring it back empty, pause and resume it all.
/// </summary>
public abstract class TestRedis : IAsyncLifetime
{
    /// <summary>For test names and messages: single, sentinel, cluster.</summary>
    public abstract string Name { get; }

    /// <summary>The `redis` setting the nodes get.</summary>
    public abstract string Endpoint { get; }

    /// <summary>Every process of the deployment (data nodes and sentinels).</summary>
    internal abstract IReadOnlyList<RedisProcess> Processes { get; }

    /// <summary>The masters holding data now (after a failover, the promoted ones).</summary>
    internal abstract Task<IReadOnlyList<RedisProcess>> MastersAsync();

    public abstract Task InitializeAsync();

    /// <summary>kill -9 of every data node (sentinels are paused meanwhile, so they take no decision on a Redis that is gone).</summary>
    internal abstract void Kill();

    /// <summary>Starts every data node again, empty, in the same roles and on the same ports, and waits until it serves.</summary>
    internal abstract Task RestartEmptyAsync();

    /// <summary>Waits until the deployment serves with its full topology (every master up, replicas attached, all agree).</summary>
    internal abstract Task WaitHealthyAsync();

    /// <summary>SIGSTOP of every process: nobody inside the deployment can notice the pause, so no failover follows it.</summary>
    internal void Pause()
    {
        foreach (RedisProcess process in Processes) process.Pause();
    }

    internal void Resume()
    {
        foreach (RedisProcess process in Processes) process.Resume();
    }

    /// <summary>Before each test: every process alive, the topology healthy, every master emptied.</summary>
    internal async Task ResetAsync()
    {
        foreach (RedisProcess process in Processes)
        {
            if (!process.IsRunning) await process.RestartAsync();
        }
        await WaitHealthyAsync();
        foreach (RedisProcess master in await MastersAsync()) await master.RequestAsync("FLUSHALL");
    }

    /// <summary>Runs a one-key command on whichever master owns <paramref name="key"/> (others answer MOVED).</summary>
    internal async Task<string?> CommandOnKeyAsync(string key, params string[] command)
    {
        RedisReplyException? last = null;
        foreach (RedisProcess master in await MastersAsync())
        {
            try
            {
                return await master.CommandAsync(command);
            }
            catch (RedisReplyException e) when (e.Message.Contains("MOVED", StringComparison.Ordinal))
            {
                last = e;
            }
        }
        throw (Exception?)last ?? new InvalidOperationException($"no master holds {key}");
    }

    /// <summary>Waits until Redis holds <paramref name="room"/>'s history up to <paramref name="offset"/> (history_append.lua ran that far).</summary>
    internal Task WaitForHistoryOffsetAsync(string room, long offset)
    {
        string key = RedisProcess.HistoryCounterKey(room);
        return Eventually.TrueAsync(
            async () => long.TryParse(await CommandOnKeyAsync(key, "HGET", key, "last"), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long last) && last >= offset,
            $"Redis ({Name}) to hold the history of {room} up to offset {offset} (HGET {key} last)");
    }

    public Task DisposeAsync()
    {
        foreach (RedisProcess process in Processes) process.Dispose();
        DeleteFiles();
        return Task.CompletedTask;
    }

    /// <summary>Removes what the deployment wrote (config files), if anything.</summary>
    protected virtual void DeleteFiles()
    {
    }

    public override string ToString() => Name;
}
