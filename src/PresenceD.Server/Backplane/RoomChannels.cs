using StackExchange.Redis;
using PresenceD.Server.Rooms;

namespace PresenceD.Server.Backplane;

/// <summary>
/// Which rooms this node is subscribed to. Each open gets a new generation; a close only unsubscribes
/// when the room's current open is still the one it closes, so a late close of a room that emptied and
/// filled again never undoes the newer subscription (centrifuge's hub does the same). SUBSCRIBE and
/// UNSUBSCRIBE are issued under one lock, so Redis sees them in the order the node decided them.
/// </summary>
internal sealed class RoomChannels
{
    private readonly Dictionary<string, OpenRoom> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly ISubscriber _subscriber;
    private readonly Action<RedisChannel, RedisValue> _handler;
    private long _generation;

    public RoomChannels(ISubscriber subscriber, Action<RedisChannel, RedisValue> handler)
    {
        _subscriber = subscriber;
        _handler = handler;
    }

    /// <summary>Records the open and returns the SUBSCRIBE in flight (completed when the channel was already subscribed).</summary>
    public Task Open(string room, RoomPresence presence, RoomKeys keys)
    {
        lock (_gate)
        {
            bool subscribed = _open.ContainsKey(room);
            _open[room] = new OpenRoom(presence, keys, ++_generation);
            return subscribed ? Task.CompletedTask : Issue(() => _subscriber.SubscribeAsync(keys.Channel, _handler));
        }
    }

    /// <summary>Unsubscribes when <paramref name="presence"/> is still the room's current open.</summary>
    public void Close(string room, RoomPresence presence)
    {
        lock (_gate)
        {
            if (!_open.TryGetValue(room, out OpenRoom? current) || !ReferenceEquals(current.Presence, presence)) return;
            _open.Remove(room);
            Task unsubscribe = Issue(() => _subscriber.UnsubscribeAsync(current.Keys.Channel, _handler));
            _ = unsubscribe.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }
    }

    /// <summary>The rooms open now (for refresh, sweep and resync).</summary>
    public List<(RoomPresence Presence, RoomKeys Keys)> Snapshot()
    {
        lock (_gate)
        {
            var rooms = new List<(RoomPresence, RoomKeys)>(_open.Count);
            foreach (OpenRoom open in _open.Values) rooms.Add((open.Presence, open.Keys));
            return rooms;
        }
    }

    public int Count
    {
        get
        {
            lock (_gate) return _open.Count;
        }
    }

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

    private sealed record OpenRoom(RoomPresence Presence, RoomKeys Keys, long Generation);
}
