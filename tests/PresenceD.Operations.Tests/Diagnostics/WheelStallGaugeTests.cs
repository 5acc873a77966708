using PresenceD.Operations.Tests.Support;
using PresenceD.Server.Expiry;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Diagnostics;

/// <summary>presenced_timer_wheel_stall_seconds (what PresencedWatchdogStalled alerts on) is 0 while the wheel keeps up and grows while it hangs.</summary>
public sealed class WheelStallGaugeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_stall_gauge_grows_while_a_callback_hangs_the_wheel_and_returns_to_0_after()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics();
        TimerWheel wheel = daemon.Server.Wheel;
        Assert.Equal("gauge", PrometheusText.Types(daemon.Exporter.Scrape())["presenced_timer_wheel_stall_seconds"]);
        await Eventually.TrueAsync(() => Stall(daemon) == 0, "the stall gauge at 0 on a wheel that keeps up", Wait);

        using var release = new ManualResetEventSlim();
        var hang = new HangingTimer(release);
        wheel.Schedule(hang, wheel.Clock.NowMs);
        try
        {
            await hang.Entered.Task.WaitAsync(Wait);
            await Eventually.TrueAsync(() => Stall(daemon) > 0, "the stall gauge to rise while the wheel hangs", Wait);
        }
        finally
        {
            release.Set();
        }
        await Eventually.TrueAsync(() => Stall(daemon) == 0, "the stall gauge back at 0 once the wheel runs again", Wait);
    }

    private static double Stall(TestServer daemon) => PrometheusText.Value(PrometheusText.Parse(daemon.Exporter.Scrape()), "presenced_timer_wheel_stall_seconds");

    private sealed class HangingTimer(ManualResetEventSlim release) : WheelTimer
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected internal override void OnExpired(long nowMs)
        {
            Entered.TrySetResult();
            release.Wait();
        }
    }
}
