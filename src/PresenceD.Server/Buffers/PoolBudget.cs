namespace PresenceD.Server.Buffers;

/// <summary>
/// The bytes every pool of one server may keep for reuse together (buffer_pool_max). A return that would
/// pass it is refused and the buffer left to the GC, so no burst can grow the pools past it.
/// </summary>
internal sealed class PoolBudget(long maxBytes)
{
    private long _maxBytes = maxBytes;
    private long _retainedBytes;
    private long _overflowBytes;

    public long MaxBytes
    {
        get => Volatile.Read(ref _maxBytes);
        set => Volatile.Write(ref _maxBytes, value);
    }

    /// <summary>Bytes held by the pools right now.</summary>
    public long RetainedBytes => Volatile.Read(ref _retainedBytes);

    /// <summary>Bytes let go because the pools held <see cref="MaxBytes"/>: returns refused, and the excess of a lowered cap (cumulative).</summary>
    public long OverflowBytes => Volatile.Read(ref _overflowBytes);

    /// <summary>Takes room for <paramref name="bytes"/>; false (and counted as overflow) when there is none.</summary>
    public bool TryReserve(long bytes)
    {
        // One atomic add on the common path; a return racing this one past the cap may be refused too.
        if (Interlocked.Add(ref _retainedBytes, bytes) <= MaxBytes) return true;
        Interlocked.Add(ref _retainedBytes, -bytes);
        CountOverflow(bytes);
        return false;
    }

    public void CountOverflow(long bytes) => Interlocked.Add(ref _overflowBytes, bytes);

    public void Release(long bytes) => Interlocked.Add(ref _retainedBytes, -bytes);
}
