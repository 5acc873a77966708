using PresenceD.Protocol;

namespace PresenceD.Server.Dispatch;

/// <summary>The dispatcher's counters (Interlocked, exported by Diagnostics).</summary>
internal sealed class DispatchCounters
{
    private readonly long[] _errors = new long[Enum.GetValues<ErrorCode>().Max(c => (int)c) + 1];
    private long _publishes;
    private long _dropped;

    /// <summary>PUBLISH requests that took effect.</summary>
    public long Publishes => Volatile.Read(ref _publishes);

    /// <summary>Messages dropped: published while not joined, over publish_rate, or not forwarded because the backplane was down.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    public long Errors(ErrorCode code) => Volatile.Read(ref _errors[(int)code]);

    internal void CountPublish() => Interlocked.Increment(ref _publishes);

    internal void CountDropped() => Interlocked.Increment(ref _dropped);

    internal void CountError(ErrorCode code) => Interlocked.Increment(ref _errors[(int)code]);
}
