namespace PresenceD.Server.Expiry;

/// <summary>Monotonic milliseconds; tests substitute a fake so no test waits on wall time.</summary>
internal interface IClock
{
    long NowMs { get; }
}
