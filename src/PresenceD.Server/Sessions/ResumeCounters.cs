namespace PresenceD.Server.Sessions;

/// <summary>What resumable sessions did; Diagnostics exports them.</summary>
internal sealed class ResumeCounters
{
    private long _suspended;
    private long _resumed;
    private long _expired;
    private long _overflowed;

    /// <summary>Sessions whose connection ended without BYE and were kept for resume_window.</summary>
    public long Suspended => Volatile.Read(ref _suspended);

    /// <summary>Suspended sessions a HELLO with their token took over.</summary>
    public long Resumed => Volatile.Read(ref _resumed);

    /// <summary>Suspended sessions that ended the normal way (the window passed, the held frames overflowed, the drain).</summary>
    public long Expired => Volatile.Read(ref _expired);

    /// <summary>Of the expired, those ended by resume_buffer overflowing.</summary>
    public long Overflowed => Volatile.Read(ref _overflowed);

    internal void CountSuspended() => Interlocked.Increment(ref _suspended);

    internal void CountResumed() => Interlocked.Increment(ref _resumed);

    internal void CountExpired(bool overflow)
    {
        Interlocked.Increment(ref _expired);
        if (overflow) Interlocked.Increment(ref _overflowed);
    }
}
