using Microsoft.Extensions.Logging;
using PresenceD.Server.Buffers;
using PresenceD.Server.Configuration;
using PresenceD.Server.Expiry;
using PresenceD.Server.Tls;

namespace PresenceD.Server.Connections;

/// <summary>What every connection of one daemon shares: settings, clock and wheel, buffer pools, the registry, counters, the send scheduler and the log.</summary>
internal sealed class ConnectionHost(LiveOptions options, IClock clock, TimerWheel wheel, BufferPools buffers, ILogger logger, TlsServerSettings? tls = null)
{
    public LiveOptions Options { get; } = options;

    public IClock Clock { get; } = clock;

    public TimerWheel Wheel { get; } = wheel;

    /// <summary>The send buffers, receive blocks and pipes, bounded by buffer_pool_max and trimmed when idle.</summary>
    public BufferPools Buffers { get; } = buffers;

    public ILogger Logger { get; } = logger;

    /// <summary>The client port's tls setting, fixed at start.</summary>
    public TlsMode TlsMode { get; } = tls is null ? TlsMode.Off : options.Current.Tls;

    /// <summary>The certificate and versions of TLS handshakes; null with tls off.</summary>
    public TlsServerSettings? Tls { get; } = tls;

    public ConnectionRegistry Registry { get; } = new();

    public ConnectionCounters Counters { get; } = new();

    /// <summary>Runs the sends, on the io_engine configured at start.</summary>
    public SendScheduler Scheduler { get; } = new(options.Current.IoEngine, logger);
}
