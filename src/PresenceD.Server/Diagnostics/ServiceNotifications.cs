using System.Diagnostics;
using System.Globalization;
using PresenceD.Server.Expiry;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The daemon's life as systemd sees it: READY=1 once listening, STATUS= with the connection count,
/// WATCHDOG=1 at half the watchdog interval (kept up while draining, which may take drain_timeout),
/// RELOADING=1 around a SIGHUP and STOPPING=1 when the drain starts. Without a notifier it does nothing.
/// The pings come from the timer wheel's own thread, which also runs every heartbeat expiry: a wheel that
/// hangs (say, a callback stuck on a deadlocked room lock) stops them, and systemd restarts the daemon.
/// </summary>
internal sealed class ServiceNotifications : IDisposable
{
    private static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(5);

    private readonly SystemdNotifier? _notifier;
    private readonly Func<string> _status;
    private PingTimer? _timer;

    public ServiceNotifications(SystemdNotifier? notifier, Func<string> status)
    {
        _notifier = notifier;
        _status = status;
    }

    /// <summary>The period of the WATCHDOG=1/STATUS= messages: half the watchdog interval, else a status refresh.</summary>
    public TimeSpan Period => _notifier?.WatchdogInterval is { } watchdog ? watchdog / 2 : StatusInterval;

    public void Ready(TimerWheel wheel)
    {
        if (_notifier is null) return;
        _notifier.Send("READY=1\nSTATUS=" + _status());
        _timer = new PingTimer(this, wheel);
        _timer.Arm();
    }

    public void Reloading() =>
        _notifier?.Send("RELOADING=1\nMONOTONIC_USEC=" + MonotonicMicroseconds().ToString(CultureInfo.InvariantCulture));

    public void Reloaded() => _notifier?.Send("READY=1\nSTATUS=" + _status());

    public void Stopping() => _notifier?.Send("STOPPING=1\nSTATUS=" + _status());

    public void Dispose()
    {
        _timer?.Stop();
        _notifier?.Dispose();
    }

    private void Tick()
    {
        string status = "STATUS=" + _status();
        _notifier!.Send(_notifier.WatchdogInterval is null ? status : "WATCHDOG=1\n" + status);
    }

    /// <summary>Re-arms itself on the wheel every <see cref="Period"/>; each firing is one WATCHDOG/STATUS message.</summary>
    private sealed class PingTimer(ServiceNotifications owner, TimerWheel wheel) : WheelTimer
    {
        private volatile bool _stopped;

        public void Arm() => wheel.Schedule(this, wheel.Clock.NowMs + (long)owner.Period.TotalMilliseconds);

        public void Stop()
        {
            _stopped = true;
            wheel.Cancel(this);
        }

        protected internal override void OnExpired(long nowMs)
        {
            if (_stopped) return;
            owner.Tick();
            Arm();
        }
    }

    // CLOCK_MONOTONIC, which Stopwatch reads on Linux; systemd compares it with its own reading.
    private static long MonotonicMicroseconds() => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));
}
