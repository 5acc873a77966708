namespace PresenceD.Server.Expiry;

/// <summary>Monotonic clock: unaffected by wall-clock adjustments, which must never expire sessions.</summary>
internal sealed class SystemClock : IClock
{
    public static readonly SystemClock Instance = new();

    private SystemClock()
    {
    }

    public long NowMs => Environment.TickCount64;
}
