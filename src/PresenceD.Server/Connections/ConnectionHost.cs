using Microsoft.Extensions.Logging;
using PresenceD.Server.Configuration;
using PresenceD.Server.Expiry;

namespace PresenceD.Server.Connections;

/// <summary>What every connection of one daemon shares: settings, clock and wheel, the registry, counters, the send scheduler and the log.</summary>
internal sealed class ConnectionHost(LiveOptions options, IClock clock, TimerWheel wheel, ILogger logger)
{
    public LiveOptions Options { get; } = options;

    public IClock Clock { get; } = clock;

    public TimerWheel Wheel { get; } = wheel;

    public ILogger Logger { get; } = logger;

    public ConnectionRegistry Registry { get; } = new();

    public ConnectionCounters Counters { get; } = new();

    public SendScheduler Scheduler { get; } = new();
}
