using System.Diagnostics;

namespace PresenceD.Client.Internal;

/// <summary>Milliseconds from a monotonic clock (Environment.TickCount64 is missing from netstandard2.1).</summary>
internal static class MonotonicClock
{
    private static readonly double MsPerTick = 1000.0 / Stopwatch.Frequency;

    public static long NowMs => (long)(Stopwatch.GetTimestamp() * MsPerTick);
}
