using PresenceD.Protocol;

namespace PresenceD.Server.Dispatch;

/// <summary>The dispatcher's counters (Interlocked, exported by Diagnostics).</summary>
internal sealed class DispatchCounters
{
    private readonly long[] _errors = new long[Enum.GetValues<ErrorCode>().Max(c => (int)c) + 1];
    private long _publishes;
    private long _dropped;
    private long _refreshes;
    private long _refreshesRefused;

    /// <summary>PUBLISH requests that took effect.</summary>
    public long Publishes => Volatile.Read(ref _publishes);

    /// <summary>Messages dropped: published while not joined, over publish_rate, or not forwarded because the backplane was down.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>REFRESH requests that took effect (the session runs on the new token).</summary>
    public long Refreshes => Volatile.Read(ref _refreshes);

    /// <summary>REFRESH requests refused (auth none, a token refused, another user's token); the session kept its token.</summary>
    public long RefreshesRefused => Volatile.Read(ref _refreshesRefused);

    public long Errors(ErrorCode code) => Volatile.Read(ref _errors[(int)code]);

    internal void CountPublish() => Interlocked.Increment(ref _publishes);

    internal void CountDropped() => Interlocked.Increment(ref _dropped);

    internal void CountRefresh(bool ok) => Interlocked.Increment(ref ok ? ref _refreshes : ref _refreshesRefused);

    internal void CountError(ErrorCode code) => Interlocked.Increment(ref _errors[(int)code]);
}
