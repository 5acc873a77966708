using System.IO.Pipelines;
using PresenceD.Server.Expiry;

namespace PresenceD.Server.Buffers;

/// <summary>
/// One server's buffer pools: the outbound queues' arrays (<see cref="Send"/>), the receive pipes' blocks
/// (<see cref="Receive"/>) and the pipes themselves. Together the two buffer pools keep at most
/// buffer_pool_max bytes. Every buffer_pool_trim_interval a timer on the server's wheel lets go of what was
/// not rented since the previous trim, so what a burst left behind is released within two intervals of its
/// end, and the <see cref="IdleCollector"/> then hands that memory back to the OS.
/// </summary>
internal sealed class BufferPools : IDisposable
{
    // A reset pipe holds no block, only its own objects (a few KiB at most, after a large frame): a count
    // bounds them, and the trim empties the pool when idle. Not worth a setting.
    private const int MaxIdlePipes = 4096;

    private readonly PoolStack<Pipe> _pipes = new(budget: null, itemBytes: 0, MaxIdlePipes);
    private readonly PipeOptions _pipeOptions;
    private readonly TimerWheel _wheel;
    private readonly TrimTimer _timer;
    private readonly IdleCollector _collector = new();
    private long _trimIntervalMs = -1;
    private long _trims;
    private long _trimmedBytes;
    // Touched by Trim only (the wheel thread, one at a time).
    private long _overflowSeen;
    private long _allocatedSeen;

    public BufferPools(long maxBytes, TimeSpan trimInterval, TimerWheel wheel)
    {
        Budget = new PoolBudget(maxBytes);
        Send = new SendBufferPool(Budget);
        Receive = new BlockMemoryPool(Budget);
        _pipeOptions = new PipeOptions(
            pool: Receive,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 0, // every read is parsed at once; max_frame bounds what stays buffered
            minimumSegmentSize: BlockMemoryPool.BlockSize,
            useSynchronizationContext: false);
        _wheel = wheel;
        _timer = new TrimTimer(this);
        Configure(maxBytes, trimInterval);
    }

    public PoolBudget Budget { get; }

    public SendBufferPool Send { get; }

    public BlockMemoryPool Receive { get; }

    /// <summary>Trims that let at least one buffer go.</summary>
    public long Trims => Volatile.Read(ref _trims);

    /// <summary>Bytes let go because they were not rented for a trim interval (cumulative).</summary>
    public long TrimmedBytes => Volatile.Read(ref _trimmedBytes);

    /// <summary>Collections run after a burst (<see cref="IdleCollector"/>).</summary>
    public long Collections => _collector.Collections;

    /// <summary>Applies buffer_pool_max and buffer_pool_trim_interval (at start and on reload); a lower cap lets the excess go at once.</summary>
    public void Configure(long maxBytes, TimeSpan trimInterval)
    {
        Budget.MaxBytes = maxBytes;
        long excess = Budget.RetainedBytes - maxBytes;
        if (excess > 0)
        {
            long dropped = Send.Drop(excess);
            if (dropped < excess) dropped += Receive.Drop(excess - dropped);
            Budget.CountOverflow(dropped);
        }
        long intervalMs = (long)trimInterval.TotalMilliseconds;
        if (Interlocked.Exchange(ref _trimIntervalMs, intervalMs) == intervalMs) return;
        if (intervalMs > 0) _wheel.Schedule(_timer, _wheel.Clock.NowMs + intervalMs);
        else _wheel.Cancel(_timer);
    }

    /// <summary>A pipe for a connection's receive side, using the receive blocks.</summary>
    public Pipe RentPipe() => _pipes.TryPop() ?? new Pipe(_pipeOptions);

    /// <summary>Takes a pipe back: completing it returns its blocks, and a reset pipe is ready for the next read.</summary>
    public void ReturnPipe(Pipe pipe)
    {
        pipe.Writer.Complete();
        pipe.Reader.Complete();
        pipe.Reset();
        _pipes.TryPush(pipe);
    }

    /// <summary>
    /// Lets go of every buffer and pipe not rented since the previous trim, and tells the
    /// <see cref="IdleCollector"/> what the interval saw. Returns the bytes trimmed. Called by the trim
    /// timer (and tests), never concurrently.
    /// </summary>
    public long Trim()
    {
        long trimmed = Send.TrimIdle() + Receive.TrimIdle();
        _pipes.TrimIdle();
        if (trimmed > 0)
        {
            Interlocked.Increment(ref _trims);
            Interlocked.Add(ref _trimmedBytes, trimmed);
        }
        long overflow = Budget.OverflowBytes;
        long allocated = Send.AllocatedBytes + Receive.AllocatedBytes;
        long overflowed = overflow - _overflowSeen;
        long churn = overflowed + allocated - _allocatedSeen;
        _overflowSeen = overflow;
        _allocatedSeen = allocated;
        _collector.AfterInterval(trimmed + overflowed, churn);
        return trimmed;
    }

    /// <summary>Stops trimming and lets every pooled buffer go.</summary>
    public void Dispose()
    {
        Volatile.Write(ref _trimIntervalMs, 0);
        _wheel.Cancel(_timer);
        Send.Drop(long.MaxValue);
        Receive.Drop(long.MaxValue);
        _pipes.Drop(int.MaxValue);
    }

    private void OnTrimDue(long nowMs)
    {
        Trim();
        long intervalMs = Volatile.Read(ref _trimIntervalMs);
        if (intervalMs > 0) _wheel.Schedule(_timer, nowMs + intervalMs);
    }

    private sealed class TrimTimer(BufferPools pools) : WheelTimer
    {
        protected internal override void OnExpired(long nowMs) => pools.OnTrimDue(nowMs);
    }
}
