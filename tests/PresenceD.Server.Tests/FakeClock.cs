using PresenceD.Server.Expiry;

namespace PresenceD.Server.Tests;

/// <summary>A clock the test moves by hand, so no test depends on wall time.</summary>
internal sealed class FakeClock(long startMs = 0) : IClock
{
    private long _nowMs = startMs;

    public long NowMs => Volatile.Read(ref _nowMs);

    public void Set(long nowMs) => Volatile.Write(ref _nowMs, nowMs);

    public void AdvanceBy(long ms) => Interlocked.Add(ref _nowMs, ms);
}
