using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// Which rooms this node is subscribed to, and the broker each channel's messages go to. Each open gets a new
/// generation; a close only unsubscribes when the room's current open is still the one it closes, so a late
/// close of a room that emptied and filled again never undoes the newer subscription (centrifuge's hub does the
/// same). SUBSCRIBE and UNSUBSCRIBE are issued under one lock, so Redis sees them in the order the node decided them.
/// </summary>
internal sealed class RoomChannels
{
    // Written under _gate (so subscribes and unsubscribes reach Redis in decision order), read without a lock.
    private readonly ConcurrentDictionary<string, OpenRoom> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly ISubscriber _subscriber;
    private readonly Action<RedisChannel, RedisValue> _handler;
    private readonly ILogger _logger;
    private long _generation;

    public RoomChannels(ISubscriber subscriber, Action<RedisChannel, RedisValue> handler, ILogger logger)
    {
        _subscriber = subscriber;
        _handler = handler;
        _logger = logger;
    }

    /// <summary>Records the open and returns the SUBSCRIBE in flight (completed when the channel was already subscribed).</summary>
    public Task Open(RedisRoomBroker broker)
    {
        string room = broker.Room.Name;
        lock (_gate)
        {
            bool subscribed = _open.ContainsKey(room);
            _open[room] = new OpenRoom(broker, ++_generation);
            return subscribed ? Task.CompletedTask : Issue(() => _subscriber.SubscribeAsync(broker.Keys.Channel, _handler));
        }
    }

    /// <summary>Unsubscribes when <paramref name="broker"/> is still the room's current open.</summary>
    public void Close(RedisRoomBroker broker)
    {
        lock (_gate)
        {
            string room = broker.Room.Name;
            if (!_open.TryGetValue(room, out OpenRoom? current) || !ReferenceEquals(current.Broker, broker)) return;
            _open.TryRemove(room, out _);
            Task unsubscribe = Issue(() => _subscriber.UnsubscribeAsync(broker.Keys.Channel, _handler));
            // A failed UNSUBSCRIBE only leaves a channel whose messages find no room here (and Redis drops it on reconnect).
            _ = unsubscribe.ContinueWith(
                static (t, state) => ((ILogger)state!).LogWarning("unsubscribe failed: {Error}", t.Exception!.GetBaseException().Message),
                _logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>The broker of a subscribed room, for its channel's messages.</summary>
    public RedisRoomBroker? Find(string room) => _open.TryGetValue(room, out OpenRoom? open) ? open.Broker : null;

    /// <summary>The rooms open now (for refresh, sweep and resync).</summary>
    public List<RedisRoomBroker> Snapshot()
    {
        lock (_gate)
        {
            var rooms = new List<RedisRoomBroker>(_open.Count);
            foreach (OpenRoom open in _open.Values) rooms.Add(open.Broker);
            return rooms;
        }
    }

    public int Count => _open.Count;

    // 1.2.6 may throw at once instead of returning a faulted task when no connection is up.
    private static Task Issue(Func<Task> call)
    {
        try
        {
            return call();
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    private sealed record OpenRoom(RedisRoomBroker Broker, long Generation);
}
