using Microsoft.Extensions.Logging;
using PresenceD.Server.Rooms;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// Every sweep_interval: extends this node's presence entries (one script per room, pipelined, plus one for
/// the online set) and sweeps the expired entries of its rooms. When Redis failed meanwhile or reconnected,
/// it instead resyncs: replays the leaves it could not write, rewrites every local member and connection,
/// makes sure Redis holds every room channel again, and reconciles each room's replica with a fresh snapshot,
/// so every view converges.
/// </summary>
internal sealed class PresenceMaintenance
{
    /// <summary>Most expired entries one sweep script removes per room: bounds the script's run time; the rest go next sweep.</summary>
    internal const int SweepLimit = 1000;

    private readonly RedisBackplane _backplane;
    private readonly SubscriptionAudit _audit;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private volatile bool _resyncRequested;

    public PresenceMaintenance(RedisBackplane backplane)
    {
        _backplane = backplane;
        _audit = new SubscriptionAudit(backplane);
    }

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
                else
                {
                    await RefreshAndSweepAsync().ConfigureAwait(false);
                    await _audit.RunIfDueAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                // The gateway counted the failure and switched the state to degraded; the next tick tries again.
                _backplane.Logger.LogInformation("presence maintenance failed, retrying next tick: {Error}", e.Message);
            }
        }
    }

    private async Task RefreshAndSweepAsync()
    {
        List<RedisRoomBroker> rooms = _backplane.Channels.Snapshot();
        // Bounded calls (ScriptChunks.Size entries each), pipelined: O(rooms + members / chunk) script calls per sweep.
        List<ScriptCall> calls = ScriptChunks.OnlineRefresh(_backplane, _backplane.OnlineSessions);
        // What each call's result means: a refresh answers the members Redis had lost, a sweep how many it removed.
        var kinds = new List<(RedisRoomBroker? Room, bool IsSweep)>(calls.Count + rooms.Count * 2);
        foreach (ScriptCall _ in calls) kinds.Add((null, false));
        foreach (RedisRoomBroker broker in rooms)
        {
            var conns = new List<string>();
            foreach (RoomMember member in broker.Room.Members)
            {
                if (member.Visible) conns.Add(member.ConnId);
            }
            foreach (ScriptCall refresh in ScriptChunks.Refresh(_backplane, broker.Keys, conns))
            {
                calls.Add(refresh);
                kinds.Add((broker, false));
            }
            calls.Add(new ScriptCall(_backplane.Scripts.Sweep, broker.Keys.Members, [_backplane.GapMaxMs, broker.Keys.ChannelName, SweepLimit, _backplane.EntryTtlMs]));
            kinds.Add((broker, true));
        }
        RedisResult[] results = await RunAllAsync(calls).ConfigureAwait(false);
        int removed = 0;
        for (int i = 0; i < results.Length; i++)
        {
            (RedisRoomBroker? broker, bool isSweep) = kinds[i];
            if (broker is null) continue;
            if (isSweep)
            {
                removed += (int)results[i];
                continue;
            }
            // A member swept while this node could not refresh it (partition, pause) is written again.
            if ((RedisResult[])results[i]! is { Length: > 0 } missing) RewriteMembers(broker, missing.Select(r => (string)r!).ToHashSet(StringComparer.Ordinal));
        }
        _backplane.Health.CountSweeps(rooms.Count, removed);
    }

    private async Task ResyncAsync()
    {
        _resyncRequested = false;
        BackplaneHealth health = _backplane.Health;
        await RunAllAsync(ScriptChunks.OnlineRefresh(_backplane, _backplane.OnlineSessions) is { Count: > 0 } online ? online : [Probe()]).ConfigureAwait(false); // probe: throws while Redis is still away
        health.State = BackplaneState.Resyncing;
        _backplane.Logger.LogInformation("redis reachable: resyncing presence");
        try
        {
            await ResyncReachableAsync(health).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Not healthy yet whatever failed (a write, a snapshot, a channel not held again): the next tick resyncs again.
            _resyncRequested = true;
            throw;
        }
    }

    private async Task ResyncReachableAsync(BackplaneHealth health)
    {
        int replayed = 0;
        while (_backplane.LostLeaves.TryDequeue(out BackplaneCommand leave))
        {
            _backplane.Queue.TryEnqueue(leave);
            replayed++;
        }
        List<RedisRoomBroker> rooms = _backplane.Channels.Snapshot();
        foreach (RedisRoomBroker broker in rooms) RewriteMembers(broker, only: null);
        // Queued behind the replayed leaves and rewrites, so the snapshots below already see them.
        var barrier = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _backplane.Queue.TryEnqueue(BackplaneCommand.Barrier(barrier));
        if (!await barrier.Task.ConfigureAwait(false)) throw new InvalidOperationException("resync writes failed");
        // Every channel held again before any snapshot, so what other nodes publish after the snapshot is heard.
        await _audit.EnsureHeldAsync().ConfigureAwait(false);
        foreach (RedisRoomBroker broker in rooms) await broker.ReloadAsync().ConfigureAwait(false);
        if (health.State != BackplaneState.Resyncing) return; // failed again meanwhile
        health.State = BackplaneState.Healthy;
        health.CountResync();
        _backplane.Logger.LogInformation("resync done: {Rooms} rooms, {Leaves} leaves replayed", rooms.Count, replayed);
    }

    /// <summary>Queues an upsert for each visible local member of the room (those in <paramref name="only"/> when given).</summary>
    private void RewriteMembers(RedisRoomBroker broker, HashSet<string>? only)
    {
        lock (broker.Room.Sync)
        {
            foreach (RoomMember member in broker.Room.Members)
            {
                if (!member.Visible || (only is not null && !only.Contains(member.ConnId))) continue;
                _backplane.Queue.TryEnqueue(broker.UpsertCommand(member));
            }
        }
    }

    // A call that only reads the clock of the probe's slot: proves Redis answers scripts when the node has no session to refresh.
    private ScriptCall Probe() => new(_backplane.Scripts.OnlineQuery, [_backplane.Deployment.ClockFor("pd:probe")], [_backplane.GapMaxMs]);

    private Task<RedisResult[]> RunAllAsync(List<ScriptCall> calls) =>
        _backplane.Gateway.RunAsync(calls, static (db, c) =>
        {
            IBatch batch = db.CreateBatch();
            var tasks = new Task<RedisResult>[c.Count];
            for (int i = 0; i < tasks.Length; i++) tasks[i] = batch.ScriptEvaluateAsync(c[i].Script, c[i].Keys, c[i].Args);
            batch.Execute();
            return Task.WhenAll(tasks);
        });
}
