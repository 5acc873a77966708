using System.Globalization;
using PresenceD.Client;
using PresenceD.Load.Measurement;

namespace PresenceD.Load;

/// <summary>Everything a run was asked to do (command-line flags; names in the comments).</summary>
internal sealed record LoadOptions
{
    public string Scenario { get; init; } = "fanout";

    /// <summary>--server host:port: the first (or only) server; its address names the run.</summary>
    public ServerAddress Server => Servers[0];

    /// <summary>--server host:port[,host:port...]: connection i goes to server i modulo their count.</summary>
    public IReadOnlyList<ServerAddress> Servers { get; init; } = [new("127.0.0.1", ServerAddress.DefaultPort)];

    /// <summary>--duration (measured phase)</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>--warmup (not measured; fanout and rooms)</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>--payload bytes (at least 8: the send timestamp)</summary>
    public int Payload { get; init; } = 64;

    /// <summary>--json</summary>
    public bool Json { get; init; }

    /// <summary>--server-pid</summary>
    public int ServerPid { get; init; }

    /// <summary>--subscribers (fanout)</summary>
    public int Subscribers { get; init; } = 1000;

    /// <summary>--publishers (fanout)</summary>
    public int Publishers { get; init; } = 1;

    /// <summary>--window: messages in flight per publisher (fanout)</summary>
    public int Window { get; init; } = 100;

    /// <summary>--connections (rooms, idle, churn)</summary>
    public int Connections { get; init; } = 1000;

    /// <summary>--room-size (rooms, churn)</summary>
    public int RoomSize { get; init; } = 10;

    /// <summary>--rate: messages/s per connection (rooms), operations/s per connection (churn), messages/s in total (fanout; 0 = closed loop)</summary>
    public double Rate { get; init; } = 1;

    /// <summary>--interval: length of the per-interval rows (zero = none)</summary>
    public TimeSpan Interval { get; init; }

    /// <summary>--hdr-out: HdrHistogram interval log to write (null = none)</summary>
    public string? HdrOut { get; init; }

    /// <summary>Test hook, no flag: pause the pacer once, to prove latency is counted from the due time.</summary>
    public PacerStall? PacerStall { get; init; }

    /// <summary>--max-messages: stop publishing after this many (0 = only the duration bounds the run)</summary>
    public long MaxMessages { get; init; }

    /// <summary>--source-addresses: 127.0.0.2.. addresses to connect from (-1 = automatic above 25,000 connections)</summary>
    public int SourceAddresses { get; init; } = -1;

    /// <summary>--room-prefix: rooms are named prefix + scenario-specific suffix</summary>
    public string RoomPrefix { get; init; } = "load";

    /// <summary>--no-progress: no live progress on stderr</summary>
    public bool NoProgress { get; init; }

    /// <summary>--tls: every connection speaks TLS (SNI and the certificate's name: the --server host)</summary>
    public bool Tls { get; init; }

    /// <summary>--ca-file: with --tls, trust only this PEM file's CA certificates</summary>
    public string? CaFile { get; init; }

    /// <summary>--insecure: with --tls, accept any certificate (tests only)</summary>
    public bool Insecure { get; init; }

    /// <summary>The shortest --interval: shorter rows would hold too few samples for their percentiles.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Parses "10s", "500ms", "2m", "1h" or a bare number of seconds.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        string value = text.Trim();
        (string number, double scale) = value switch
        {
            _ when value.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (value[..^2], 0.001),
            _ when value.EndsWith('s') || value.EndsWith('S') => (value[..^1], 1.0),
            _ when value.EndsWith('m') || value.EndsWith('M') => (value[..^1], 60.0),
            _ when value.EndsWith('h') || value.EndsWith('H') => (value[..^1], 3600.0),
            _ => (value, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount) || amount < 0 || double.IsInfinity(amount))
            return false;
        duration = TimeSpan.FromSeconds(amount * scale);
        return true;
    }

    /// <summary>Why these options cannot run, or null.</summary>
    public string? Validate()
    {
        if (Payload < Measurement.Payload.MinSize) return $"--payload must be at least {Measurement.Payload.MinSize} (the timestamp)";
        if (Duration <= TimeSpan.Zero) return "--duration must be positive";
        if (Interval < TimeSpan.Zero) return "--interval must not be negative";
        if (Interval > TimeSpan.Zero && Interval < MinInterval) return $"--interval must be at least {MinInterval.TotalMilliseconds:0} ms";
        if (HdrOut is { Length: 0 }) return "--hdr-out needs a file name";
        if (!Tls && (CaFile is not null || Insecure)) return "--ca-file and --insecure need --tls";
        if (Scenario == "idle" && (Interval > TimeSpan.Zero || HdrOut is not null)) return "--interval and --hdr-out measure latency, which idle does not have";
        return Scenario switch
        {
            "fanout" when Subscribers < 1 || Publishers < 1 => "--subscribers and --publishers must be at least 1",
            "fanout" when Window < 1 => "--window must be at least 1",
            "fanout" when Rate < 0 || double.IsNaN(Rate) || double.IsInfinity(Rate) => "--rate must be 0 (closed loop) or a positive number of messages/s",
            "rooms" when Connections < 2 || RoomSize < 2 => "--connections and --room-size must be at least 2",
            "rooms" or "churn" when !(Rate > 0) || double.IsInfinity(Rate) => "--rate must be a positive number",
            "idle" or "churn" when Connections < 1 => "--connections must be at least 1",
            "churn" when RoomSize < 1 => "--room-size must be at least 1",
            _ => null,
        };
    }
}
