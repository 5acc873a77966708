using System.Diagnostics.Metrics;
using PresenceD.Server.Expiry;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// presenced_timer_wheel_stall_seconds: how late the timer wheel is in running a probe timer it re-arms every
/// second. The wheel runs every heartbeat expiry and the systemd watchdog pings; a wheel that hangs stops all
/// of them, and this gauge, read on the scraper's thread, grows for as long as it hangs. 0 while it keeps up.
/// </summary>
internal sealed class WheelStallGauge : WheelTimer
{
    private const long ProbePeriodMs = 1000;

    private readonly TimerWheel _wheel;
    private long _lastRunMs;

    private WheelStallGauge(TimerWheel wheel)
    {
        _wheel = wheel;
        _lastRunMs = wheel.Clock.NowMs;
    }

    public static void Register(Meter meter, TimerWheel wheel)
    {
        var probe = new WheelStallGauge(wheel);
        probe.Arm();
        meter.CreateObservableGauge("presenced_timer_wheel_stall_seconds", probe.StallSeconds, "s",
            "How late the timer wheel (heartbeat expiry, systemd watchdog pings) is in running a 1 s probe timer; grows while it hangs");
    }

    private double StallSeconds()
    {
        long late = _wheel.Clock.NowMs - Volatile.Read(ref _lastRunMs) - ProbePeriodMs;
        // Within a tick or two of its due time is on time: the wheel runs timers at tick resolution.
        long slack = 2 * (long)_wheel.Tick.TotalMilliseconds;
        return late <= slack ? 0 : late / 1000.0;
    }

    private void Arm() => _wheel.Schedule(this, _wheel.Clock.NowMs + ProbePeriodMs);

    protected internal override void OnExpired(long nowMs)
    {
        Volatile.Write(ref _lastRunMs, nowMs);
        Arm();
    }
}
