using PresenceD.Load.Measurement;

namespace PresenceD.Load.Reporting;

/// <summary>
/// The percentiles a run reports, in nanoseconds, as HdrHistogram reports them: the highest value of each one's bucket
/// (at most 0.1 % above the value recorded), max included.
/// </summary>
internal sealed record LatencySummary(long Samples, long P50, long P90, long P95, long P99, long P999, long P9999, long Max)
{
    public static readonly LatencySummary Empty = new(0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>The percentiles in report order, with the names the JSON and the tables use.</summary>
    public IEnumerable<(string Name, long Nanoseconds)> Values =>
    [
        ("p50", P50), ("p90", P90), ("p95", P95), ("p99", P99), ("p999", P999), ("p9999", P9999), ("max", Max),
    ];

    public static LatencySummary Of(LatencyHistogram histogram) => histogram.Count == 0
        ? Empty
        : new LatencySummary(
            histogram.Count,
            histogram.ValueAtPercentile(50),
            histogram.ValueAtPercentile(90),
            histogram.ValueAtPercentile(95),
            histogram.ValueAtPercentile(99),
            histogram.ValueAtPercentile(99.9),
            histogram.ValueAtPercentile(99.99),
            // The top of the max's bucket, as HdrHistogram reports it, so no percentile exceeds it.
            LatencyHistogram.HighestEquivalentValueAt(LatencyHistogram.IndexOf(histogram.Max)));
}
