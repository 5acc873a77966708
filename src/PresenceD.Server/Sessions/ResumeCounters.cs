namespace PresenceD.Server.Sessions;

/// <summary>What resumable sessions did; Diagnostics exports them.</summary>
internal sealed class ResumeCounters
{
    private long _suspended;
    private long _resumed;
    private long _expired;
    private long _overflowed;
    private long _refused;
    private int _suspendedNow;
    private long _handedOver;
    private long _handOversFailed;

    /// <summary>Sessions whose connection ended without BYE and were kept for resume_window.</summary>
    public long Suspended => Volatile.Read(ref _suspended);

    /// <summary>Suspended sessions a HELLO with their token took over.</summary>
    public long Resumed => Volatile.Read(ref _resumed);

    /// <summary>Suspended sessions that ended the normal way (the window passed, the held frames overflowed, the drain).</summary>
    public long Expired => Volatile.Read(ref _expired);

    /// <summary>Of the expired, those ended by resume_buffer overflowing.</summary>
    public long Overflowed => Volatile.Read(ref _overflowed);

    /// <summary>Resumable sessions whose connection dropped while resume_max_sessions were suspended: ended at once, not suspended.</summary>
    public long Refused => Volatile.Read(ref _refused);

    /// <summary>Sessions this node gave to another node that a HELLO with their token reached (cross-node resumes, the old node's count).</summary>
    public long HandedOver => Volatile.Read(ref _handedOver);

    /// <summary>Cross-node resumes that did not finish within resume_handover_timeout (or lost their held frames), on either node: each ended its part the normal way.</summary>
    public long HandOversFailed => Volatile.Read(ref _handOversFailed);

    /// <summary>Sessions suspended now (the gauge, and what resume_max_sessions caps).</summary>
    public int SuspendedNow => Volatile.Read(ref _suspendedNow);

    /// <summary>
    /// Takes one of <paramref name="cap"/> suspension places (0: no cap) and counts the suspension; false, counted as
    /// refused, when all are taken.
    /// </summary>
    internal bool TrySuspend(int cap)
    {
        int now = Interlocked.Increment(ref _suspendedNow);
        if (cap > 0 && now > cap)
        {
            Interlocked.Decrement(ref _suspendedNow);
            Interlocked.Increment(ref _refused);
            return false;
        }
        Interlocked.Increment(ref _suspended);
        return true;
    }

    /// <summary>A suspended session resumed or ended: its place is free.</summary>
    internal void Unsuspend() => Interlocked.Decrement(ref _suspendedNow);

    internal void CountResumed() => Interlocked.Increment(ref _resumed);

    internal void CountHandedOver() => Interlocked.Increment(ref _handedOver);

    internal void CountHandOverFailed() => Interlocked.Increment(ref _handOversFailed);

    internal void CountExpired(bool overflow)
    {
        Interlocked.Increment(ref _expired);
        if (overflow) Interlocked.Increment(ref _overflowed);
    }
}
