namespace PresenceD.Load.Reporting;

/// <summary>One --interval row: what happened between <see cref="StartSeconds"/> and its end (seconds since the measured phase began).</summary>
internal sealed record IntervalRow(
    double StartSeconds,
    double Seconds,
    long Sent,
    long Delivered,
    LatencySummary Latency,
    LatencySummary? PacerLag)
{
    public double SentPerSecond => Seconds > 0 ? Sent / Seconds : 0;

    public double DeliveriesPerSecond => Seconds > 0 ? Delivered / Seconds : 0;
}
