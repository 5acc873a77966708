using Microsoft.Extensions.Logging;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// Every sweep_interval: extends this node's presence entries (one script per room, pipelined, plus one for
/// the online set) and sweeps the expired entries of its rooms. When Redis failed meanwhile or reconnected,
/// it instead resyncs: replays the leaves it could not write, rewrites every local member and connection,
/// and reconciles each room's replica with a fresh snapshot, so every view converges.
/// </summary>
internal sealed class PresenceMaintenance
{
    private const int SweepLimit = 1000;

    private readonly RedisBackplane _backplane;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private volatile bool _resyncRequested;

    public PresenceMaintenance(RedisBackplane backplane) => _backplane = backplane;

    public void Start() => _loop = Task.Run(LoopAsync);

    /// <summary>Asks for a resync at the next tick (Redis reconnected, possibly empty).</summary>
    public void RequestResync() => _resyncRequested = true;

    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(_backplane.Options.SweepInterval);
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
        {
            try
            {
                if (_backplane.Health.State == BackplaneState.Degraded || _resyncRequested) await ResyncAsync().ConfigureAwait(false);
                else await RefreshAndSweepAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The gateway already switched the state to degraded; the next tick tries again.
                _backplane.Logger.LogDebug("presence maintenance failed: {Error}", e.Message);
            }
        }
    }

    private async Task RefreshAndSweepAsync()
    {
        List<(RoomPresence Presence, RoomKeys Keys)> rooms = _backplane.Channels.Snapshot();
        var calls = new List<(string Script, RedisKey[] Keys, RedisValue[] Args)>(rooms.Count * 2 + 1) { OnlineRefresh() };
        var refreshed = new List<RoomKeys?>(rooms.Count * 2 + 1) { null };
        foreach ((RoomPresence presence, RoomKeys keys) in rooms)
        {
            if (_backplane.Server.Hub.Index.Find(keys.Room) is not { } room || !ReferenceEquals(room.State, presence)) continue;
            var args = new List<RedisValue> { _backplane.EntryTtlMs, _backplane.KeyTtlMs, _backplane.GapMaxMs };
            foreach (RoomMember member in room.Members)
            {
                if (member.Visible) args.Add(member.Session.ConnId);
            }
            calls.Add((LuaScripts.Refresh, keys.Members, [.. args]));
            refreshed.Add(keys);
            calls.Add((LuaScripts.Sweep, keys.Members, [_backplane.GapMaxMs, keys.ChannelName, SweepLimit]));
            refreshed.Add(null);
        }
        RedisResult[] results = await RunAllAsync(calls).ConfigureAwait(false);
        // A member swept while this node could not refresh it (partition, pause) is written again.
        for (int i = 0; i < results.Length; i++)
        {
            if (refreshed[i] is not { } keys || ((RedisResult[])results[i]!) is not { Length: > 0 } missing) continue;
            RewriteMembers(keys, missing.Select(r => (string)r!).ToHashSet(StringComparer.Ordinal));
        }
    }

    private async Task ResyncAsync()
    {
        _resyncRequested = false;
        BackplaneHealth health = _backplane.Health;
        await RunAllAsync([OnlineRefresh()]).ConfigureAwait(false); // probe: throws while Redis is still away
        health.State = BackplaneState.Resyncing;
        _backplane.Logger.LogInformation("redis reachable: resyncing presence");
        int replayed = 0;
        while (_backplane.LostLeaves.TryDequeue(out BackplaneCommand leave))
        {
            _backplane.Queue.TryEnqueue(leave);
            replayed++;
        }
        List<(RoomPresence Presence, RoomKeys Keys)> rooms = _backplane.Channels.Snapshot();
        foreach ((RoomPresence _, RoomKeys keys) in rooms) RewriteMembers(keys, only: null);
        // Queued behind the replayed leaves and rewrites, so the snapshots below already see them.
        var barrier = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _backplane.Queue.TryEnqueue(BackplaneCommand.Barrier(barrier));
        if (!await barrier.Task.ConfigureAwait(false)) throw new InvalidOperationException("resync writes failed");
        foreach ((RoomPresence presence, RoomKeys keys) in rooms)
        {
            if (_backplane.Server.Hub.Index.Find(keys.Room) is not { } room || !ReferenceEquals(room.State, presence)) continue;
            RemoteApplier.BeginSnapshot(presence);
            IReadOnlyList<RemoteMember> snapshot = await _backplane.ReadSnapshotAsync(keys).ConfigureAwait(false);
            _backplane.Applier.Install(room, presence, snapshot);
        }
        if (health.State != BackplaneState.Resyncing) return; // failed again meanwhile
        health.State = BackplaneState.Healthy;
        health.CountResync();
        _backplane.Logger.LogInformation("resync done: {Rooms} rooms, {Leaves} leaves replayed", rooms.Count, replayed);
    }

    /// <summary>Queues an upsert for each visible local member of the room (those in <paramref name="only"/> when given).</summary>
    private void RewriteMembers(RoomKeys keys, HashSet<string>? only)
    {
        if (_backplane.Server.Hub.Index.Find(keys.Room) is not { State: RoomPresence presence } room) return;
        lock (presence.Sync)
        {
            foreach (RoomMember member in room.Members)
            {
                if (!member.Visible || (only is not null && !only.Contains(member.Session.ConnId))) continue;
                _backplane.Queue.TryEnqueue(_backplane.UpsertCommand(member, keys));
            }
        }
    }

    private (string, RedisKey[], RedisValue[]) OnlineRefresh()
    {
        var args = new List<RedisValue> { _backplane.EntryTtlMs, _backplane.KeyTtlMs, _backplane.GapMaxMs };
        foreach (Connection connection in _backplane.Server.Connections.All)
        {
            Session session = connection.Session;
            if (!session.HelloDone || session.Ended) continue;
            args.Add(session.User);
            args.Add(session.ConnId);
        }
        return (LuaScripts.OnlineRefresh, [], [.. args]);
    }

    private Task<RedisResult[]> RunAllAsync(List<(string Script, RedisKey[] Keys, RedisValue[] Args)> calls) =>
        _backplane.Gateway.RunAsync(calls, static (db, c) =>
        {
            IBatch batch = db.CreateBatch();
            var tasks = new Task<RedisResult>[c.Count];
            for (int i = 0; i < tasks.Length; i++) tasks[i] = batch.ScriptEvaluateAsync(c[i].Script, c[i].Keys, c[i].Args);
            batch.Execute();
            return Task.WhenAll(tasks);
        });
}
