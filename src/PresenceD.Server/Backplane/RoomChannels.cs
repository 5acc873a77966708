using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// Which rooms this node is subscribed to, and the broker each channel's messages go to. A room's subscription
/// lives from its first open to the close of its current broker: an open while it still lives only hands it the
/// newer broker, and a close of an older broker does nothing, so a late close never undoes a newer open
/// (centrifuge's hub does the same with a generation). SUBSCRIBE and UNSUBSCRIBE are issued under one lock, so
/// Redis sees them in the order the node decided them.
/// Each subscription is a <see cref="ChannelMessageQueue"/> read by one loop: the library's callback form runs
/// handlers concurrently and reorders a channel's messages, and per-room order is a protocol promise.
/// </summary>
internal sealed class RoomChannels
{
    // Written under _gate (so subscribes and unsubscribes reach Redis in decision order), read without a lock.
    private readonly ConcurrentDictionary<string, RoomSubscription> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly ISubscriber _subscriber;
    private readonly Action<RedisRoomBroker, RedisValue> _handler;
    private readonly ILogger _logger;

    public RoomChannels(ISubscriber subscriber, Action<RedisRoomBroker, RedisValue> handler, ILogger logger)
    {
        _subscriber = subscriber;
        _handler = handler;
        _logger = logger;
    }

    public int Count => _open.Count;

    /// <summary>Records the open and returns the SUBSCRIBE in flight (its first one, when the room was still subscribed).</summary>
    public Task Open(RedisRoomBroker broker)
    {
        string room = broker.Room.Name;
        lock (_gate)
        {
            if (_open.TryGetValue(room, out RoomSubscription? live))
            {
                live.Broker = broker;
                return live.Subscribed;
            }
            var subscription = new RoomSubscription(broker);
            _open[room] = subscription;
            Subscribe(subscription);
            return subscription.Subscribed;
        }
    }

    /// <summary>Unsubscribes when <paramref name="broker"/> is still the room's current open.</summary>
    public void Close(RedisRoomBroker broker)
    {
        lock (_gate)
        {
            string room = broker.Room.Name;
            if (!_open.TryGetValue(room, out RoomSubscription? current) || !ReferenceEquals(current.Broker, broker)) return;
            _open.TryRemove(room, out _);
            current.Closed = true;
            if (current.Queue is { } queue) Unsubscribe(queue);
            else if (current.Failed) Forget(current);
            // else the SUBSCRIBE is in flight: OnSubscribed unsubscribes it
        }
    }

    /// <summary>The broker of a subscribed room.</summary>
    public RedisRoomBroker? Find(string room) => _open.TryGetValue(room, out RoomSubscription? open) ? open.Broker : null;

    /// <summary>The rooms open now (for refresh, sweep and resync).</summary>
    public List<RedisRoomBroker> Snapshot()
    {
        lock (_gate)
        {
            var rooms = new List<RedisRoomBroker>(_open.Count);
            foreach (RoomSubscription open in _open.Values) rooms.Add(open.Broker);
            return rooms;
        }
    }

    /// <summary>
    /// Subscribes again every room whose SUBSCRIBE failed (null <paramref name="rooms"/>), or the given rooms (a gap the
    /// audit found), and completes when those SUBSCRIBEs did; throws when one failed (it is retried next time).
    /// </summary>
    public Task RepairAsync(IReadOnlySet<string>? rooms)
    {
        var issued = new List<Task>();
        lock (_gate)
        {
            foreach ((string room, RoomSubscription subscription) in _open)
            {
                if (rooms is null ? !subscription.Failed : !rooms.Contains(room)) continue;
                // Drops whatever the library still holds for the channel (a failed SUBSCRIBE leaves its queue registered).
                _ = Issue(() => _subscriber.UnsubscribeAsync(subscription.Broker.Keys.Channel));
                subscription.Queue = null;
                Subscribe(subscription);
                issued.Add(subscription.Subscribed);
            }
        }
        return Task.WhenAll(issued);
    }

    /// <summary>The rooms whose SUBSCRIBE succeeded and that are still open: the channels this node must hold now.</summary>
    public List<RedisRoomBroker> Subscribed()
    {
        lock (_gate)
        {
            var rooms = new List<RedisRoomBroker>(_open.Count);
            foreach (RoomSubscription open in _open.Values)
            {
                if (open.Queue is not null && !open.Closed && !open.Failed) rooms.Add(open.Broker);
            }
            return rooms;
        }
    }

    /// <summary>The rooms whose SUBSCRIBE failed and was not repaired yet.</summary>
    public int FailedCount => _open.Values.Count(s => s.Failed);

    // Under _gate.
    private void Subscribe(RoomSubscription subscription)
    {
        subscription.Failed = false;
        Task<ChannelMessageQueue> subscribing = Issue(() => _subscriber.SubscribeAsync(subscription.Broker.Keys.Channel));
        subscription.Subscribed = subscribing;
        _ = subscribing.ContinueWith((t, state) => OnSubscribed((RoomSubscription)state!, t), subscription,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnSubscribed(RoomSubscription subscription, Task<ChannelMessageQueue> subscribing)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(subscription.Subscribed, subscribing)) return; // a repair issued a newer SUBSCRIBE
            if (!subscribing.IsCompletedSuccessfully)
            {
                subscription.Failed = true;
                _logger.LogWarning("room {Room}: subscribe failed ({Error}); retried when redis answers", subscription.Broker.Room.Name,
                    subscribing.Exception?.GetBaseException().Message ?? "cancelled");
                if (subscription.Closed) Forget(subscription);
                return;
            }
            ChannelMessageQueue queue = subscribing.Result;
            if (subscription.Closed)
            {
                Unsubscribe(queue);
                return;
            }
            subscription.Queue = queue;
            queue.OnMessage(message =>
            {
                // Messages of a closed or replaced subscription find no room here.
                if (!subscription.Closed && ReferenceEquals(subscription.Queue, queue)) _handler(subscription.Broker, message.Message);
            });
        }
    }

    // A closed room whose SUBSCRIBE failed: the library still holds its queue; drop it unless a newer open of the room uses the channel.
    private void Forget(RoomSubscription subscription)
    {
        if (_open.ContainsKey(subscription.Broker.Room.Name)) return; // RepairAsync(all: false) does not see it, but the newer open's queue works
        _ = Issue(() => _subscriber.UnsubscribeAsync(subscription.Broker.Keys.Channel));
    }

    private void Unsubscribe(ChannelMessageQueue queue)
    {
        Task unsubscribe = Issue(() => queue.UnsubscribeAsync());
        // A failed UNSUBSCRIBE only leaves a channel whose messages find no room here (and Redis drops it on reconnect).
        _ = unsubscribe.ContinueWith(
            static (t, state) => ((ILogger)state!).LogWarning("unsubscribe failed: {Error}", t.Exception!.GetBaseException().Message),
            _logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // The library may throw at once instead of returning a faulted task when no connection is up.
    private static Task<T> Issue<T>(Func<Task<T>> call)
    {
        try
        {
            return call();
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

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

    /// <summary>One room's subscription: the broker its messages go to now and the library's queue once subscribed. Fields under _gate, read by the queue loop.</summary>
    private sealed class RoomSubscription(RedisRoomBroker broker)
    {
        public volatile RedisRoomBroker Broker = broker;
        public volatile ChannelMessageQueue? Queue;
        public volatile bool Closed;
        public volatile bool Failed;
        public Task Subscribed = Task.CompletedTask;
    }
}
