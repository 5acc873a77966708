using PresenceD.Server.Expiry;

namespace PresenceD.Benchmarks;

/// <summary>A clock the benchmark moves, so Advance measures firing, not waiting.</summary>
internal sealed class ManualClock : IClock
{
    public long NowMs { get; set; }
}
