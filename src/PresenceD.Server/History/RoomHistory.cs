using System.Buffers;
using System.Diagnostics;

namespace PresenceD.Server.History;

/// <summary>
/// The last <c>capacity</c> encoded MESSAGE frames of one room, each kept for at most <c>ttl</c>,
/// in pooled buffers returned on eviction. Offsets start at 1 per epoch and grow by exactly 1.
/// TTL expiry is lazy: it happens on access, at the time the caller passes in.
/// </summary>
/// <remarks>
/// Publishing: under <see cref="SyncRoot"/> take <see cref="NextOffset"/>, encode the MESSAGE
/// with it, then <see cref="Append"/>; holding the lock across the three keeps offsets in frame
/// order. Check <see cref="IsRetired"/> after taking the lock: a retired history was dropped from
/// its store, so get the room's history again.
/// </remarks>
internal sealed class RoomHistory
{
    private readonly Lock _lock = new();
    private Entry[] _ring;
    private int _head;
    private int _count;
    private long _lastOffset;
    private long _lastActivityMs;
    private long _ttlMs;
    private bool _retired;

    public RoomHistory(string epoch, int capacity, TimeSpan ttl, long nowMs)
    {
        ArgumentException.ThrowIfNullOrEmpty(epoch);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        Epoch = epoch;
        _ring = new Entry[capacity];
        _ttlMs = (long)ttl.TotalMilliseconds;
        _lastActivityMs = nowMs;
    }

    public string Epoch { get; }

    /// <summary>Held while assigning an offset, encoding with it and appending.</summary>
    public Lock SyncRoot => _lock;

    /// <summary>Offset of the last appended message; 0 before the first.</summary>
    public long LastOffset => Volatile.Read(ref _lastOffset);

    public bool IsRetired => Volatile.Read(ref _retired);

    public int Capacity
    {
        get
        {
            lock (_lock)
            {
                return _ring.Length;
            }
        }
    }

    /// <summary>Messages held right now (after dropping those expired at <paramref name="nowMs"/>).</summary>
    public int Count(long nowMs)
    {
        lock (_lock)
        {
            EvictExpired(nowMs);
            return _count;
        }
    }

    /// <summary>The offset the next message gets. Call with <see cref="SyncRoot"/> held.</summary>
    public long NextOffset()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "NextOffset without SyncRoot held");
        return _lastOffset + 1;
    }

    /// <summary>Copies <paramref name="frame"/> in as message <paramref name="offset"/>, which must be <see cref="NextOffset"/>.</summary>
    public void Append(long offset, ReadOnlySpan<byte> frame, long nowMs)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_retired, this);
            if (offset != _lastOffset + 1)
            {
                throw new InvalidOperationException($"History of epoch {Epoch} expected offset {_lastOffset + 1}, got {offset}.");
            }

            EvictExpired(nowMs);
            if (_count == _ring.Length)
            {
                EvictOldest();
            }

            byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(frame.Length, 1));
            frame.CopyTo(buffer);
            _ring[(_head + _count) % _ring.Length] = new Entry(buffer, frame.Length, nowMs);
            _count++;
            _lastActivityMs = nowMs;
            Volatile.Write(ref _lastOffset, offset);
        }
    }

    /// <summary>
    /// Visits, in order, every message after <paramref name="afterOffset"/>, under the lock so no
    /// message is appended meanwhile. False (and nothing visited) when one of them is no longer
    /// held or <paramref name="afterOffset"/> is beyond <see cref="LastOffset"/>.
    /// </summary>
    public bool TryReplay<TState>(long afterOffset, long nowMs, TState state, HistoryFrameVisitor<TState> visit)
    {
        ArgumentNullException.ThrowIfNull(visit);
        lock (_lock)
        {
            if (_retired)
            {
                return false;
            }

            EvictExpired(nowMs);
            long firstHeld = _lastOffset - _count + 1;
            if (afterOffset < 0 || afterOffset > _lastOffset || afterOffset + 1 < firstHeld)
            {
                return false;
            }

            for (long offset = afterOffset + 1; offset <= _lastOffset; offset++)
            {
                Entry entry = _ring[(_head + (int)(offset - firstHeld)) % _ring.Length];
                visit(state, new ReadOnlyMemory<byte>(entry.Buffer, 0, entry.Length));
            }

            return true;
        }
    }

    /// <summary>Applies a new size and TTL, dropping the oldest messages that no longer fit.</summary>
    internal void Reconfigure(int capacity, TimeSpan ttl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        lock (_lock)
        {
            _ttlMs = (long)ttl.TotalMilliseconds;
            if (capacity == _ring.Length)
            {
                return;
            }

            while (_count > capacity)
            {
                EvictOldest();
            }

            var ring = new Entry[capacity];
            for (int i = 0; i < _count; i++)
            {
                ring[i] = _ring[(_head + i) % _ring.Length];
            }

            _ring = ring;
            _head = 0;
        }
    }

    /// <summary>Retires the history when it holds nothing and saw no message for a TTL; returns true if it did.</summary>
    internal bool TryRetireIfExpired(long nowMs)
    {
        lock (_lock)
        {
            EvictExpired(nowMs);
            if (_retired || _count > 0 || nowMs - _lastActivityMs < _ttlMs)
            {
                return false;
            }

            _retired = true;
            return true;
        }
    }

    /// <summary>Returns every buffer to the pool; the history accepts nothing afterwards.</summary>
    internal void Retire()
    {
        lock (_lock)
        {
            while (_count > 0)
            {
                EvictOldest();
            }

            _retired = true;
        }
    }

    private void EvictExpired(long nowMs)
    {
        while (_count > 0 && nowMs - _ring[_head].AppendedAtMs >= _ttlMs)
        {
            EvictOldest();
        }
    }

    private void EvictOldest()
    {
        ArrayPool<byte>.Shared.Return(_ring[_head].Buffer);
        _ring[_head] = default;
        _head = (_head + 1) % _ring.Length;
        _count--;
    }

    private readonly record struct Entry(byte[] Buffer, int Length, long AppendedAtMs);
}
