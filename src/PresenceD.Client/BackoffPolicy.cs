using System;

namespace PresenceD.Client;

/// <summary>
/// Jittered exponential back-off for reconnects: attempt n waits a random time in
/// [ceiling × (1 − <see cref="Jitter"/>), ceiling], where ceiling = min(<see cref="Max"/>, <see cref="Initial"/> × <see cref="Multiplier"/>^n),
/// and never less than the server's GOAWAY reconnect_ms. The jitter keeps thousands of clients that lost the same
/// server from coming back in one wave.
/// </summary>
public sealed class BackoffPolicy
{
    /// <summary>Ceiling of the first attempt's wait (default 250 ms).</summary>
    public TimeSpan Initial { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Largest wait (default 30 s).</summary>
    public TimeSpan Max { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Growth factor per failed attempt (default 2).</summary>
    public double Multiplier { get; set; } = 2.0;

    /// <summary>Fraction of the ceiling that is randomised, 0..1 (default 0.5).</summary>
    public double Jitter { get; set; } = 0.5;

    /// <summary>
    /// The wait before attempt <paramref name="attempt"/> (0 = the first reconnect), given <paramref name="random"/>
    /// uniform in [0, 1) and the server's minimum (GOAWAY reconnect_ms; zero when none).
    /// </summary>
    public TimeSpan Delay(int attempt, double random, TimeSpan serverMinimum)
    {
        if (attempt < 0) throw new ArgumentOutOfRangeException(nameof(attempt));
        double ceilingMs = Initial.TotalMilliseconds * Math.Pow(Math.Max(1.0, Multiplier), Math.Min(attempt, 64));
        ceilingMs = Math.Min(ceilingMs, Max.TotalMilliseconds);
        double jitter = Math.Min(Math.Max(Jitter, 0.0), 1.0);
        double r = Math.Min(Math.Max(random, 0.0), 1.0);
        double ms = ceilingMs * (1.0 - jitter * r);
        TimeSpan delay = TimeSpan.FromMilliseconds(Math.Max(ms, 0));
        return delay < serverMinimum ? serverMinimum : delay;
    }
}
