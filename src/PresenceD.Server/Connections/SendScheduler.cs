using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Configuration;

namespace PresenceD.Server.Connections;

/// <summary>
/// Runs sends off the reading thread.
/// <para>
/// A <see cref="SendBatch"/> hands the connections it touched to a shard here: the shard's one pool work item sends
/// what each connection has queued, and keeps looping while more arrive. So the thread that reads goes straight back
/// to reading, and frames from several reads of one burst leave in one send per recipient — as Redis writes every
/// client buffer once per event-loop turn, and nats-server hands flushes to a writer. Measured in the peers benchmark on 2 cores (one run
/// each way, alternated): W1 6.6-7.0 M deliveries/s instead of 5.1-5.3 M, W2 7.7-8.2 µs of server CPU per delivery
/// instead of 10.2-10.4, W2 p99 0.4 ms instead of 1.3-1.6.
/// </para>
/// <para>
/// With <c>io_engine io_uring</c> a shard sends its whole batch in one io_uring_enter (<see cref="RingSender"/>)
/// instead of one send(2) per connection. (Sending a small batch at once on the reading thread, through a ring of
/// its own, measured no better in W2 and was left out: the hand-off to the shard is not what a small room costs most.)
/// </para>
/// </summary>
internal sealed class SendScheduler : IDisposable
{
    // A broadcast to a room of up to this many members is one submission; a larger one takes several.
    private const uint ShardRingEntries = 4096;

    private readonly Shard[] _shards;
    private long _ringFailures;

    /// <summary>A scheduler that sends with <see cref="Connection.SendQueued"/>, one send(2) per connection.</summary>
    public SendScheduler()
        : this(IoEngine.Epoll, logger: null)
    {
    }

    /// <summary>A scheduler on <paramref name="engine"/>; when io_uring is refused it logs why and uses epoll.</summary>
    public SendScheduler(IoEngine engine, ILogger? logger)
    {
        // One shard per two cores, like the socket engine threads that feed them.
        _shards = new Shard[Math.Max(1, Environment.ProcessorCount / 2)];
        string? refused = null;
        for (int i = 0; i < _shards.Length; i++)
        {
            RingSender? ring = null;
            if (engine == IoEngine.IoUring && refused is null) ring = RingSender.TryCreate(ShardRingEntries, logger, out refused);
            _shards[i] = new Shard(this, ring);
        }
        if (refused is not null)
        {
            foreach (Shard shard in _shards) shard.DisposeRing();
            logger?.LogWarning("io_engine io_uring: {Reason}; sending with epoll instead", refused);
        }
        Engine = refused is null && engine == IoEngine.IoUring ? IoEngine.IoUring : IoEngine.Epoll;
    }

    /// <summary>The engine in use: io_uring only when the kernel gave every shard its ring at start.</summary>
    public IoEngine Engine { get; }

    /// <summary>Times a shard's ring failed while running (each logged); that shard sends with epoll from then on.</summary>
    public long RingFailures => Interlocked.Read(ref _ringFailures);

    /// <summary>Hands <paramref name="connection"/> to its shard, which will send what it has queued.</summary>
    public void Schedule(Connection connection) => _shards[(int)((ulong)connection.Id % (ulong)_shards.Length)].Add(connection);

    public void Dispose()
    {
        foreach (Shard shard in _shards) shard.DisposeRing();
    }

    /// <summary>Connections waiting for a send, double-buffered, drained by at most one work item at a time.</summary>
    private sealed class Shard(SendScheduler scheduler, RingSender? ring) : IThreadPoolWorkItem
    {
        // The lists keep their capacity between bursts; a burst over this many connections shrinks back.
        private const int RetainedCapacity = 4096;

        private readonly Lock _lock = new();
        private List<Connection> _waiting = new(256);
        private List<Connection> _sending = new(256);
        private bool _scheduled;
        private bool _disposed;
        // Used by the running work item only; closed by DisposeRing, or by the work item when disposed while it ran.
        private RingSender? _ring = ring;

        public void Add(Connection connection)
        {
            bool schedule;
            lock (_lock)
            {
                _waiting.Add(connection);
                schedule = !_scheduled;
                _scheduled = true;
            }
            if (schedule) ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        public void Execute()
        {
            while (true)
            {
                List<Connection> batch;
                bool disposed;
                lock (_lock)
                {
                    disposed = _disposed;
                    if (_waiting.Count == 0)
                    {
                        _scheduled = false;
                        break;
                    }
                    batch = _waiting;
                    _waiting = _sending;
                    _sending = batch;
                }
                // A connection touched by several reads appears several times: the later sends find nothing queued
                // (or, on the ring, find the send side still taken by the first and leave the rest to it).
                if (_ring is null || disposed)
                {
                    foreach (Connection connection in batch) connection.SendQueued();
                }
                else
                {
                    _ring.Send(CollectionsMarshal.AsSpan(batch));
                    if (_ring.Failed)
                    {
                        Interlocked.Increment(ref scheduler._ringFailures);
                        _ring.Dispose();
                        _ring = null;
                    }
                }
                batch.Clear();
                if (batch.Capacity > RetainedCapacity) batch.Capacity = RetainedCapacity;
            }
            // Disposed while this work item ran: the ring is this item's to close, now that nothing uses it.
            if (Volatile.Read(ref _disposed)) ReleaseRing();
        }

        /// <summary>Closes the ring now, or, when a work item is running, lets it close the ring as it ends; later sends use epoll.</summary>
        public void DisposeRing()
        {
            bool running;
            lock (_lock)
            {
                _disposed = true;
                running = _scheduled;
            }
            if (!running) ReleaseRing();
        }

        private void ReleaseRing() => Interlocked.Exchange(ref _ring, null)?.Dispose();
    }
}
