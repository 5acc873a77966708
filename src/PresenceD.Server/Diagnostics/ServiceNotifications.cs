using System.Diagnostics;
using System.Globalization;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The daemon's life as systemd sees it: READY=1 once listening, STATUS= with the connection count,
/// WATCHDOG=1 at half the watchdog interval (kept up while draining, which may take drain_timeout),
/// RELOADING=1 around a SIGHUP and STOPPING=1 when the drain starts. Without a notifier it does nothing.
/// </summary>
internal sealed class ServiceNotifications : IDisposable
{
    private static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(5);

    private readonly SystemdNotifier? _notifier;
    private readonly Func<string> _status;
    private Timer? _timer;

    public ServiceNotifications(SystemdNotifier? notifier, Func<string> status)
    {
        _notifier = notifier;
        _status = status;
    }

    /// <summary>The period of the WATCHDOG=1/STATUS= messages: half the watchdog interval, else a status refresh.</summary>
    public TimeSpan Period => _notifier?.WatchdogInterval is { } watchdog ? watchdog / 2 : StatusInterval;

    public void Ready()
    {
        if (_notifier is null) return;
        _notifier.Send("READY=1\nSTATUS=" + _status());
        _timer = new Timer(_ => Tick(), null, Period, Period);
    }

    public void Reloading() =>
        _notifier?.Send("RELOADING=1\nMONOTONIC_USEC=" + MonotonicMicroseconds().ToString(CultureInfo.InvariantCulture));

    public void Reloaded() => _notifier?.Send("READY=1\nSTATUS=" + _status());

    public void Stopping() => _notifier?.Send("STOPPING=1\nSTATUS=" + _status());

    public void Dispose()
    {
        _timer?.Dispose();
        _notifier?.Dispose();
    }

    private void Tick()
    {
        string status = "STATUS=" + _status();
        _notifier!.Send(_notifier.WatchdogInterval is null ? status : "WATCHDOG=1\n" + status);
    }

    // CLOCK_MONOTONIC, which Stopwatch reads on Linux; systemd compares it with its own reading.
    private static long MonotonicMicroseconds() => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));
}
