namespace PresenceD.Load.Reporting;

/// <summary>The outcome of one run (the --json fields use these names in snake_case).</summary>
internal sealed class LoadResult
{
    public string Scenario { get; set; } = "";
    public string Server { get; set; } = "";
    public int Connections { get; set; }
    public int Rooms { get; set; }
    public int Payload { get; set; }
    public int Window { get; set; }
    public long Sent { get; set; }
    public long Delivered { get; set; }
    public long Expected { get; set; }
    public double Seconds { get; set; }
    public double SetupSeconds { get; set; }
    public double DeliveriesPerSecond => Seconds > 0 ? Delivered / Seconds : 0;
    public double P50Us { get; set; } = double.NaN;
    public double P99Us { get; set; } = double.NaN;
    public double P999Us { get; set; } = double.NaN;
    public double MaxUs { get; set; } = double.NaN;
    public long LatencySamples { get; set; }
    public string LatencyOf { get; set; } = "message";
    public IReadOnlyDictionary<string, long> Errors { get; set; } = new Dictionary<string, long>();
    public double? ServerRssMb { get; set; }
    public double? ServerCpuSeconds { get; set; }
    public double ClientCpuSeconds { get; set; }
    public double? KbPerConnection { get; set; }
    public string Note { get; set; } = "";

    public long ErrorTotal => Errors.Values.Sum();

    /// <summary>True when every expected delivery arrived and nothing failed.</summary>
    public bool Ok => ErrorTotal == 0 && Delivered >= Expected;
}
