namespace PresenceD.Server.Expiry;

/// <summary>
/// An entry of a <see cref="TimerWheel"/>, embedded in the object it times (a session) so that
/// scheduling never allocates. All link fields are owned by the wheel and guarded by its lock.
/// </summary>
internal abstract class WheelTimer
{
    internal const int Idle = 0;
    internal const int Scheduled = 1;
    // Taken out of its slot by Advance, callback not yet started: a Cancel or Schedule now still wins.
    internal const int Pending = 2;
    internal const int Running = 3;

    internal WheelTimer? WheelNext;
    internal WheelTimer? WheelPrev;
    internal WheelTimer? FireNext;
    internal int WheelSlot = -1;
    internal long DueAtMs;
    internal int State;

    /// <summary>True from Schedule until the callback starts or Cancel succeeds.</summary>
    public bool IsScheduled
    {
        get
        {
            int state = Volatile.Read(ref State);
            return state == Scheduled || state == Pending;
        }
    }

    /// <summary>The time this timer is (or was last) due, in the wheel clock's milliseconds.</summary>
    public long DueAt => Volatile.Read(ref DueAtMs);

    /// <summary>Runs on the thread calling <see cref="TimerWheel.Advance"/>, outside the wheel lock.
    /// It may re-schedule this timer; it must not call Advance.</summary>
    protected internal abstract void OnExpired(long nowMs);
}
