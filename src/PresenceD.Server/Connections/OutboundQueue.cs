using System.Buffers;
using PresenceD.Protocol.Framing;

namespace PresenceD.Server.Connections;

/// <summary>
/// A connection's bounded outbound bytes, double-buffered: producers (this connection's replies, other
/// connections' fan-out) append whole frames to the pending buffer under a short lock; the send loop
/// swaps it with the sending buffer and writes the whole batch with one send call. Buffers come from the
/// server's send pool and go back when the queue drains, so an idle connection holds none. The lock is this object's
/// monitor rather than a separate lock object, to keep the per-connection footprint small.
/// </summary>
internal sealed class OutboundQueue
{
    private FrameBuffer _pending;
    private FrameBuffer _sending;
    private readonly ArrayPool<byte> _pool;
    private long _limit;
    private bool _sealed;
    // A suspended session's room frames (Connection.Resume.cs): appended while _held is set, up to _holdLimit; then
    // moved whole into the resuming connection's queue, after which this queue only answers Moved.
    private FrameBuffer? _held;
    private long _holdLimit;
    private bool _moved;
    // A resume from another node stages here (_held set, the queue open): an overflow loses the staged frames, and from
    // then on frames are refused until the resume gives up (DropHeld), rather than sent ahead of the WELCOME.
    private bool _staging;
    private bool _stagingLost;

    public OutboundQueue(long limit, ArrayPool<byte> pool)
    {
        _limit = limit;
        _pool = pool;
        _pending = new FrameBuffer(4096, pool);
        _sending = new FrameBuffer(4096, pool);
    }

    /// <summary>Bytes waiting for the send loop (not counting the batch being sent).</summary>
    public int PendingBytes => Volatile.Read(ref _pendingCount);

    private int _pendingCount;

    public long Limit
    {
        get => Volatile.Read(ref _limit);
        set => Volatile.Write(ref _limit, value);
    }

    /// <summary>Appends an encoded frame (or several). Returns false when it would pass the limit or the queue is sealed.</summary>
    public EnqueueResult Enqueue(ReadOnlySpan<byte> frames)
    {
        lock (this)
        {
            if (_moved) return EnqueueResult.Moved;
            if (_held is not null) return Hold(frames);
            if (_stagingLost) return EnqueueResult.Closed;
            if (_sealed) return EnqueueResult.Closed;
            int before = _pending.WrittenCount;
            if (before + frames.Length > _limit) return EnqueueResult.Overflow;
            _pending.Write(frames);
            Volatile.Write(ref _pendingCount, _pending.WrittenCount);
            return before == 0 ? EnqueueResult.FirstPending : EnqueueResult.Queued;
        }
    }

    /// <summary>Bytes held for the suspended session (0 when not holding).</summary>
    public int HeldBytes
    {
        get
        {
            lock (this) return _held?.WrittenCount ?? 0;
        }
    }

    /// <summary>
    /// The connection closed but its session is suspended: from now on room frames are kept (in order, up to
    /// <paramref name="limit"/> bytes) instead of refused. Replies still are refused: the queue is sealed.
    /// </summary>
    public void StartHolding(long limit)
    {
        lock (this)
        {
            _sealed = true;
            _holdLimit = limit;
            // A connection closing while it stages a hand-over keeps what it staged (the session's end drops it).
            _held ??= new FrameBuffer(4096, _pool);
        }
    }

    /// <summary>
    /// A resume from another node is under way on this connection: room frames are kept (up to <paramref name="limit"/>
    /// bytes, as held frames are) until <see cref="FinishStaging"/> puts them after the WELCOME and the frames the old
    /// node held. The queue stays open for its own frames.
    /// </summary>
    public void StartStaging(long limit)
    {
        lock (this)
        {
            _holdLimit = limit;
            _held = new FrameBuffer(4096, _pool);
            _staging = true;
            _stagingLost = false;
        }
    }

    /// <summary>
    /// The resume from another node is done: <paramref name="writeFirst"/> (the WELCOME), then <paramref name="heldElsewhere"/>
    /// (the old node's held frames), then what was staged here, in that order. False, with nothing written, when the
    /// staging overflowed or was dropped, or when the two together pass resume_buffer, the limit on what one session holds
    /// (so the whole fits in send_queue_limit). <paramref name="wasEmpty"/>: the queue was empty (the sender needs a wake-up).
    /// </summary>
    public bool FinishStaging<TState>(TState state, Action<FrameBuffer, TState> writeFirst, ReadOnlySpan<byte> heldElsewhere, out bool wasEmpty)
    {
        lock (this)
        {
            wasEmpty = _pending.WrittenCount == 0;
            if (_held is null || _sealed || !_staging || heldElsewhere.Length + _held.WrittenCount > _holdLimit) return false;
            _staging = false;
            writeFirst(_pending, state);
            _pending.Write(heldElsewhere);
            _pending.Write(_held.WrittenSpan);
            Volatile.Write(ref _pendingCount, _pending.WrittenCount);
            _held.Release();
            _held = null;
            return true;
        }
    }

    /// <summary>The session moved to another node: the held frames, copied out, and nothing is kept from now on (null when none are held: overflowed or dropped).</summary>
    public byte[]? TakeHeld()
    {
        lock (this)
        {
            if (_held is null) return null;
            byte[] held = _held.WrittenSpan.ToArray();
            _held.Release();
            _held = null;
            return held;
        }
    }

    /// <summary>
    /// The session resumed: <paramref name="writeFirst"/> writes the resuming connection's first frame (its WELCOME) into
    /// <paramref name="target"/>, the held frames follow it, and every later frame offered here is answered
    /// <see cref="EnqueueResult.Moved"/>, so it comes after them. False, with nothing written, when the holding overflowed
    /// or was dropped: frames were lost, the session cannot resume. Lock order: this queue, then the target's (the
    /// queue of a connection that is resuming is never itself holding).
    /// </summary>
    public bool MoveHeldTo<TState>(OutboundQueue target, TState state, Action<FrameBuffer, TState> writeFirst, out bool targetWasEmpty, out int movedBytes)
    {
        lock (this)
        {
            targetWasEmpty = false;
            movedBytes = 0;
            if (_held is null) return false;
            lock (target)
            {
                targetWasEmpty = target._pending.WrittenCount == 0;
                writeFirst(target._pending, state);
                // Written past send_queue_limit if need be: resume_buffer is validated to fit below it with the WELCOME.
                target._pending.Write(_held.WrittenSpan);
                Volatile.Write(ref target._pendingCount, target._pending.WrittenCount);
            }
            movedBytes = _held.WrittenCount;
            _held.Release();
            _held = null;
            _moved = true;
            return true;
        }
    }

    /// <summary>The suspension ended without a resume: the held frames go back to the pool and nothing more is kept.</summary>
    public void DropHeld()
    {
        lock (this)
        {
            _held?.Release();
            _held = null;
            _staging = false;
            _stagingLost = false;
        }
    }

    // Under the lock: one more frame for the suspended session, or the overflow that ends it (reported once: the held
    // frames are dropped, and later frames are refused as for any closed queue).
    private EnqueueResult Hold(ReadOnlySpan<byte> frames)
    {
        FrameBuffer held = _held!;
        if (held.WrittenCount + frames.Length > _holdLimit)
        {
            held.Release();
            _held = null;
            if (!_staging) return EnqueueResult.HeldOverflow;
            // Staging: the resume finds the loss when it finishes (FinishStaging answers false) and gives up itself.
            _stagingLost = true;
            return EnqueueResult.Closed;
        }
        held.Write(frames);
        return EnqueueResult.Held;
    }

    /// <summary>
    /// Lets the caller encode straight into the pending buffer under the lock; dispose to commit. Check
    /// <see cref="Writer.IsOpen"/> first: a sealed queue takes nothing more (its last frame is the GOAWAY,
    /// and after the close its buffers are back in the pool).
    /// </summary>
    public Writer BeginWrite()
    {
        Monitor.Enter(this);
        return new Writer(this);
    }

    /// <summary>Swaps out the pending bytes for sending; false when nothing is pending.</summary>
    public bool TryTakeBatch(out FrameBuffer batch)
    {
        lock (this)
        {
            if (_pending.WrittenCount == 0)
            {
                batch = null!;
                return false;
            }
            (batch, _pending) = (_pending, _sending);
            _sending = batch;
            Volatile.Write(ref _pendingCount, 0);
            return true;
        }
    }

    /// <summary>Called by the send loop after a batch went out: clears it, and returns buffers to the pool once idle.</summary>
    public void CompleteBatch(FrameBuffer batch)
    {
        lock (this)
        {
            if (_pending.WrittenCount == 0)
            {
                batch.Release();
                _pending.Release();
            }
            else
            {
                batch.Clear();
            }
        }
    }

    /// <summary>Refuses further frames; optionally drops what is pending (slow consumer) so the last frame can go out.</summary>
    public void Seal(bool discardPending)
    {
        lock (this)
        {
            _sealed = true;
            if (discardPending)
            {
                _pending.Clear();
                Volatile.Write(ref _pendingCount, 0);
            }
        }
    }

    /// <summary>Drops what is pending but keeps the buffer (benchmarks, which have no sockets to drain to).</summary>
    internal void DiscardPending()
    {
        lock (this)
        {
            _pending.Clear();
            Volatile.Write(ref _pendingCount, 0);
        }
    }

    /// <summary>Appends a final frame even when sealed or over the limit (GOAWAY).</summary>
    public void EnqueueFinal(Action<FrameBuffer> write)
    {
        lock (this)
        {
            write(_pending);
            Volatile.Write(ref _pendingCount, _pending.WrittenCount);
        }
    }

    /// <summary>Returns every buffer to the pool (after the socket is gone).</summary>
    public void ReleaseAll()
    {
        lock (this)
        {
            _sealed = true;
            _pending.Release();
            _sending.Release();
            Volatile.Write(ref _pendingCount, 0);
        }
    }

    internal readonly ref struct Writer
    {
        private readonly OutboundQueue _queue;
        private readonly int _before;

        public Writer(OutboundQueue queue)
        {
            _queue = queue;
            _before = queue._pending.WrittenCount;
            IsOpen = !queue._sealed;
        }

        /// <summary>False when the queue is sealed: write nothing.</summary>
        public bool IsOpen { get; }

        /// <summary>Bytes pending once this write is in.</summary>
        public int PendingBytes => _queue._pending.WrittenCount;

        /// <summary>The buffer to encode frames into.</summary>
        public FrameBuffer Buffer => _queue._pending;

        /// <summary>True when the queue was empty before this write (the send loop needs a wake-up).</summary>
        public bool WasEmpty => _before == 0;

        public void Dispose()
        {
            Volatile.Write(ref _queue._pendingCount, _queue._pending.WrittenCount);
            Monitor.Exit(_queue);
        }
    }
}

/// <summary>Outcome of <see cref="OutboundQueue.Enqueue"/>.</summary>
internal enum EnqueueResult
{
    /// <summary>Queued behind other pending bytes (the send loop is already due).</summary>
    Queued,
    /// <summary>Queued into an empty queue: the send loop must be woken.</summary>
    FirstPending,
    /// <summary>Over send_queue_limit: the connection is a slow consumer.</summary>
    Overflow,
    /// <summary>The connection is closing.</summary>
    Closed,
    /// <summary>Kept for the connection's suspended session.</summary>
    Held,
    /// <summary>Over resume_buffer: the suspended session must end (its held frames are gone).</summary>
    HeldOverflow,
    /// <summary>The session resumed on another connection: offer the frame to that one.</summary>
    Moved,
}
