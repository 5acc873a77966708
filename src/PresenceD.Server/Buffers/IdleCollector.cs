namespace PresenceD.Server.Buffers;

/// <summary>
/// Gives a burst's memory back to the OS once the burst is over. The buffers the pools let go are garbage
/// until a full collection, an idle daemon allocates too little to start one, and a plain full collection
/// keeps the emptied heap regions committed (measured: 296 MiB resident over a 0.5 MiB heap). So after a
/// quiet trim interval that follows enough let go, this runs a full collection, the finalizers (a closed
/// socket's event args keep their last buffer until theirs has run), then an aggressive collection, which
/// compacts and decommits. At most one per interval, in practice one after each burst; on a pool thread,
/// so the wheel keeps ticking meanwhile.
/// </summary>
internal sealed class IdleCollector
{
    /// <summary>
    /// An interval is quiet when the pools allocated and overflowed less than this in it; a collection needs
    /// this much let go since the last one, and an eighth of the heap, which it has to walk.
    /// </summary>
    public const long CollectAfterBytes = 16 * 1024 * 1024;

    private long _letGoBytes; // touched by AfterInterval only (the trim, one at a time)
    private int _running;
    private long _collections;

    /// <summary>Collections run (cumulative).</summary>
    public long Collections => Volatile.Read(ref _collections);

    /// <summary>Called once per trim interval; true when it started a collection.</summary>
    /// <param name="letGo">bytes the pools let go in the interval (trimmed, or refused past the cap)</param>
    /// <param name="churn">bytes the pools allocated or refused in the interval: the burst is not over while it is high</param>
    public bool AfterInterval(long letGo, long churn)
    {
        _letGoBytes += letGo;
        if (churn >= CollectAfterBytes || _letGoBytes < Math.Max(CollectAfterBytes, GC.GetTotalMemory(forceFullCollection: false) / 8)) return false;
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0) return false;
        _letGoBytes = 0;
        ThreadPool.UnsafeQueueUserWorkItem(static collector => collector.Collect(), this, preferLocal: false);
        return true;
    }

    private void Collect()
    {
        try
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            Interlocked.Increment(ref _collections);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }
}
