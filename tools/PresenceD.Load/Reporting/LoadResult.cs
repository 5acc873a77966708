namespace PresenceD.Load.Reporting;

/// <summary>The outcome of one run (the --json fields use these names in snake_case; tools/README-tools.md lists them).</summary>
internal sealed class LoadResult
{
    public string Scenario { get; set; } = "";
    public string Server { get; set; } = "";

    /// <summary>"open" (a schedule at --rate, latency from each message's due time) or "closed" (windowed fanout, idle).</summary>
    public string Loop { get; set; } = "closed";

    /// <summary>Open loop: the scheduled messages (or requests) per second in total.</summary>
    public double? TargetRate { get; set; }

    public int Connections { get; set; }
    public int Rooms { get; set; }
    public int Payload { get; set; }
    public int Window { get; set; }
    public long Sent { get; set; }
    public long Delivered { get; set; }
    public long Expected { get; set; }
    public double Seconds { get; set; }
    public double SetupSeconds { get; set; }

    /// <summary>Time from the first send to the last (the measured phase without the wait for the last deliveries).</summary>
    public double SendSeconds { get; set; }

    /// <summary>Messages (fanout, rooms) or requests (churn) sent per second while sending: the achieved rate.</summary>
    public double SentPerSecond => SendSeconds > 0 ? Sent / SendSeconds : 0;

    public double DeliveriesPerSecond => Seconds > 0 ? Delivered / Seconds : 0;

    public LatencySummary Latency { get; set; } = LatencySummary.Empty;

    /// <summary>True when latency runs from each message's due time (open loop), not from when it was sent.</summary>
    public bool LatencyFromDueTime => Loop == "open";

    public string LatencyOf { get; set; } = "message";

    /// <summary>Open loop: due → actual send delay of the pacer; null in a closed loop.</summary>
    public LatencySummary? PacerLag { get; set; }

    public IReadOnlyList<IntervalRow> Intervals { get; set; } = [];

    public double IntervalSeconds { get; set; }

    public IReadOnlyDictionary<string, long> Errors { get; set; } = new Dictionary<string, long>();
    public double? ServerRssMb { get; set; }
    public double? ServerCpuSeconds { get; set; }
    public double ClientCpuSeconds { get; set; }
    public double? KbPerConnection { get; set; }

    /// <summary>Idle: connections still open at the end.</summary>
    public int? Alive { get; set; }

    /// <summary>Churn: connections opened in total (workers reconnect).</summary>
    public long? ConnectionsOpened { get; set; }

    /// <summary>Churn: PRESENCE_DIFF frames received.</summary>
    public long? PresenceDiffs { get; set; }

    /// <summary>Churn: reconnect storms run (1 when the run lasted past its middle).</summary>
    public int? Storms { get; set; }

    public long ErrorTotal => Errors.Values.Sum();

    /// <summary>True when every expected delivery arrived and nothing failed.</summary>
    public bool Ok => ErrorTotal == 0 && Delivered >= Expected;
}
