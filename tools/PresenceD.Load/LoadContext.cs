using System.Net;
using PresenceD.Load.Measurement;
using PresenceD.Load.Net;
using PresenceD.Load.Reporting;

namespace PresenceD.Load;

/// <summary>What a scenario runs with: options, the resolved server, shared counters, the heartbeat pump, and its phase for the progress display.</summary>
internal sealed class LoadContext(LoadOptions options, IPEndPoint server, CancellationToken cancellation) : IDisposable
{
    private volatile string _phase = "starting";

    public LoadOptions Options { get; } = options;

    public IPEndPoint Server { get; } = server;

    public LoadStats Stats { get; } = new();

    public HeartbeatPump Heartbeats { get; } = new();

    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>--tls: the handshake every connection runs, or null for plain TCP.</summary>
    public PresenceD.Client.Internal.TlsHandshake? Tls { get; init; }

    /// <summary>--hdr-out: the interval log the measured phase writes, or null.</summary>
    public HdrLogWriter? HdrLog { get; init; }

    /// <summary>Called with each --interval row as it completes (the live rows on stdout), or null.</summary>
    public Action<IntervalRow>? OnIntervalRow { get; init; }

    public string Phase
    {
        get => _phase;
        set => _phase = value;
    }

    public void Dispose()
    {
        Heartbeats.Dispose();
        HdrLog?.Dispose();
    }
}
