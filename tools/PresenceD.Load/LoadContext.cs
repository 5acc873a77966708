using System.Net;
using PresenceD.Load.Measurement;
using PresenceD.Load.Net;
using PresenceD.Load.Reporting;

namespace PresenceD.Load;

/// <summary>One server a run connects to: its resolved address, and the TLS handshake for its name (null for plain TCP).</summary>
internal sealed record LoadTarget(IPEndPoint Endpoint, PresenceD.Client.Internal.TlsHandshake? Tls);

/// <summary>What a scenario runs with: options, the resolved servers, shared counters, the heartbeat pump, and its phase for the progress display.</summary>
internal sealed class LoadContext(LoadOptions options, IReadOnlyList<LoadTarget> targets, CancellationToken cancellation) : IDisposable
{
    private volatile string _phase = "starting";

    public LoadOptions Options { get; } = options;

    /// <summary>The servers, in --server order (at least one).</summary>
    public IReadOnlyList<LoadTarget> Targets { get; } = targets;

    /// <summary>Where connection <paramref name="index"/> goes: round-robin over the servers.</summary>
    public LoadTarget TargetFor(int index) => Targets[index % Targets.Count];

    public LoadStats Stats { get; } = new();

    public HeartbeatPump Heartbeats { get; } = new();

    public CancellationToken Cancellation { get; } = cancellation;

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
