using PresenceD.Server.Expiry;
using PresenceD.Operations.Tests.Support;
using PresenceD.Server.Diagnostics;

namespace PresenceD.Operations.Tests.Diagnostics;

public sealed class SystemdNotifierTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public void Without_NOTIFY_SOCKET_there_is_no_notifier()
    {
        Assert.Null(SystemdNotifier.FromEnvironment(_ => null));
        Assert.Null(SystemdNotifier.FromEnvironment(name => name == "WATCHDOG_USEC" ? "1000000" : null));
    }

    [Fact]
    public void The_watchdog_interval_comes_from_WATCHDOG_USEC_only_for_this_pid()
    {
        using SystemdNotifier mine = SystemdNotifier.FromEnvironment(name => name switch
        {
            "NOTIFY_SOCKET" => "/run/systemd/notify",
            "WATCHDOG_USEC" => "30000000",
            "WATCHDOG_PID" => Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        })!;
        using SystemdNotifier other = SystemdNotifier.FromEnvironment(name => name switch
        {
            "NOTIFY_SOCKET" => "/run/systemd/notify",
            "WATCHDOG_USEC" => "30000000",
            "WATCHDOG_PID" => "1",
            _ => null,
        })!;
        using var notifications = new ServiceNotifications(mine, () => "");

        Assert.Equal(TimeSpan.FromSeconds(30), mine.WatchdogInterval);
        Assert.Equal(TimeSpan.FromSeconds(15), notifications.Period);
        Assert.Null(other.WatchdogInterval);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ready_then_watchdog_with_status_then_stopping(bool abstractName)
    {
        using NotifySocket systemd = NotifySocket.Bind(abstractName);
        int connections = 3;
        using var notifications = new ServiceNotifications(new SystemdNotifier(systemd.Address, TimeSpan.FromMilliseconds(200)), () => $"serving {connections} connections");

        using var wheel = new TimerWheel(SystemClock.Instance, TimeSpan.FromMilliseconds(10));
        wheel.Start();
        notifications.Ready(wheel);
        string ready = await systemd.ReceiveAsync(Wait);
        connections = 4;
        (string watchdog, _) = await systemd.ReceiveUntilAsync("serving 4 connections", Wait);
        notifications.Stopping();
        (string stopping, _) = await systemd.ReceiveUntilAsync("STOPPING=1", Wait);

        Assert.Equal("READY=1\nSTATUS=serving 3 connections", ready);
        Assert.Equal("WATCHDOG=1\nSTATUS=serving 4 connections", watchdog);
        Assert.Equal("STOPPING=1\nSTATUS=serving 4 connections", stopping);
    }

    [Fact]
    public async Task Watchdog_pings_come_from_the_timer_wheel_so_a_stalled_wheel_stops_them()
    {
        using NotifySocket systemd = NotifySocket.Bind();
        using var notifications = new ServiceNotifications(new SystemdNotifier(systemd.Address, TimeSpan.FromMilliseconds(200)), () => "serving");
        // Not started: like a wheel whose thread hangs in a callback, it never advances.
        using var wheel = new TimerWheel(SystemClock.Instance, TimeSpan.FromMilliseconds(10));

        notifications.Ready(wheel);
        Assert.StartsWith("READY=1", await systemd.ReceiveAsync(Wait));
        // Six watchdog periods (100 ms each) of silence: systemd would restart this daemon.
        await Assert.ThrowsAsync<Xunit.Sdk.XunitException>(() => systemd.ReceiveAsync(TimeSpan.FromMilliseconds(600)));

        wheel.Start();
        Assert.StartsWith("WATCHDOG=1", await systemd.ReceiveAsync(Wait));
    }

    [Fact]
    public async Task Reload_is_bracketed_by_RELOADING_and_READY()
    {
        using NotifySocket systemd = NotifySocket.Bind();
        using var notifications = new ServiceNotifications(new SystemdNotifier(systemd.Address, null), () => "ok");

        notifications.Reloading();
        string reloading = await systemd.ReceiveAsync(Wait);
        notifications.Reloaded();
        string ready = await systemd.ReceiveAsync(Wait);

        Assert.Matches("^RELOADING=1\nMONOTONIC_USEC=[0-9]+$", reloading);
        Assert.Equal("READY=1\nSTATUS=ok", ready);
    }

    [Fact]
    public void Sending_without_a_listener_reports_false_and_does_not_throw()
    {
        using var notifier = new SystemdNotifier(Path.Combine(Path.GetTempPath(), "no-such-notify-" + Guid.NewGuid().ToString("N") + ".sock"), null);

        Assert.False(notifier.Send("READY=1"));
    }
}
