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
/// A SUBSCRIBE that timed out may still have reached Redis, and the library, which never saw the answer, sends no
/// UNSUBSCRIBE for it: a room closed in that state is released by subscribing once more (so the library knows the
/// server) and then unsubscribing, retried until Redis answers. A channel held for nothing would carry the room's
/// traffic here for the life of the connection and hide a missing channel from the audit's count.
/// </summary>
internal sealed class RoomChannels
{
    // Written under _gate (so subscribes and unsubscribes reach Redis in decision order), read without a lock.
    private readonly ConcurrentDictionary<string, RoomSubscription> _open = new(StringComparer.Ordinal);
    // Closed rooms whose SUBSCRIBE failed, so Redis may hold their channel: the release in flight, null once it failed. Under _gate.
    private readonly Dictionary<string, (RedisChannel Channel, Task? Releasing)> _releasing = new(StringComparer.Ordinal);
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
            _releasing.Remove(room); // this open's SUBSCRIBE holds the channel now; a release in flight sees the open and keeps it
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
            if (current.Queue is { } queue) Unsubscribe(current, queue);
            else if (current.Failed) Release(current.Broker);
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
    /// Subscribes again every room whose SUBSCRIBE failed and releases every closed room's channel not released yet (null
    /// <paramref name="rooms"/>), or subscribes again the given rooms (a gap the audit found); completes when those
    /// commands did, throws when one failed (it is retried next time).
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
            if (rooms is null)
            {
                // Collected first: each start writes its entry (and a release that fails at once, again).
                var retries = new List<(string Room, RedisChannel Channel)>();
                foreach ((string room, (RedisChannel channel, Task? releasing)) in _releasing)
                {
                    if (releasing is null) retries.Add((room, channel));
                }
                foreach ((string room, RedisChannel channel) in retries) issued.Add(StartRelease(room, channel));
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
                if (subscription.Closed) Release(subscription.Broker);
                return;
            }
            ChannelMessageQueue queue = subscribing.Result;
            if (subscription.Closed)
            {
                Unsubscribe(subscription, queue);
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

    // Under _gate. A closed room whose SUBSCRIBE failed: Redis may hold the channel, unless a newer open of the room uses it.
    private void Release(RedisRoomBroker broker)
    {
        string room = broker.Room.Name;
        if (_open.ContainsKey(room)) return; // the newer open's SUBSCRIBE holds the channel; its close leaves it
        _ = StartRelease(room, broker.Keys.Channel);
    }

    // Under _gate. SUBSCRIBE again (Redis keeps one subscription per channel and connection, and the library learns
    // which server holds it), then UNSUBSCRIBE, which drops the failed SUBSCRIBE's queue too; the library still holds it.
    private Task StartRelease(string room, RedisChannel channel)
    {
        Task<ChannelMessageQueue> subscribing = Issue(() => _subscriber.SubscribeAsync(channel));
        _releasing[room] = (channel, subscribing);
        _ = subscribing.ContinueWith(t => OnReleaseSubscribed(room, channel, t),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return subscribing;
    }

    private void OnReleaseSubscribed(string room, RedisChannel channel, Task<ChannelMessageQueue> subscribing)
    {
        lock (_gate)
        {
            bool current = _releasing.TryGetValue(room, out (RedisChannel Channel, Task? Releasing) release) && ReferenceEquals(release.Releasing, subscribing);
            if (!subscribing.IsCompletedSuccessfully)
            {
                if (current) _releasing[room] = (channel, null); // retried with the failed SUBSCRIBEs
                _logger.LogWarning("room {Room}: could not leave the channel of a failed SUBSCRIBE ({Error}); retried when redis answers", room,
                    subscribing.Exception?.GetBaseException().Message ?? "cancelled");
                return;
            }
            if (current) _releasing.Remove(room);
            if (_open.ContainsKey(room))
            {
                // Opened again meanwhile: the channel is the new open's now; only this release's queue goes.
                ChannelMessageQueue queue = subscribing.Result;
                Logged(Issue(() => queue.UnsubscribeAsync()));
                return;
            }
            LeaveChannel(channel);
            _logger.LogDebug("room {Room}: left the channel of a SUBSCRIBE that had failed", room);
        }
    }

    // Under _gate. Drops one queue of the room's channel: the whole channel unless another open of the room uses it now.
    private void Unsubscribe(RoomSubscription subscription, ChannelMessageQueue queue)
    {
        if (_open.TryGetValue(subscription.Broker.Room.Name, out RoomSubscription? open) && !ReferenceEquals(open, subscription))
        {
            Logged(Issue(() => queue.UnsubscribeAsync()));
            return;
        }
        LeaveChannel(subscription.Broker.Keys.Channel);
    }

    // Every queue of the channel and the channel itself (the library sends UNSUBSCRIBE once it knows the server holding it).
    private void LeaveChannel(RedisChannel channel) => Logged(Issue(() => _subscriber.UnsubscribeAsync(channel)));

    // A failed UNSUBSCRIBE only leaves a channel whose messages find no room here (and Redis drops it on reconnect).
    private void Logged(Task unsubscribe) =>
        _ = unsubscribe.ContinueWith(
            static (t, state) => ((ILogger)state!).LogWarning("unsubscribe failed: {Error}", t.Exception!.GetBaseException().Message),
            _logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

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
