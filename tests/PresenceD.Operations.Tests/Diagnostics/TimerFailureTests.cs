using PresenceD.Operations.Tests.Support;
using PresenceD.Tests.Shared;
using PresenceD.Server.Expiry;

namespace PresenceD.Operations.Tests.Diagnostics;

public sealed class TimerFailureTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_timer_callback_that_throws_is_logged_counted_in_metrics_and_the_wheel_keeps_firing()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics();
        TimerWheel wheel = daemon.Server.Wheel;
        var later = new SignalTimer();
        wheel.Schedule(new ThrowingTimer(), wheel.Clock.NowMs);
        wheel.Schedule(later, wheel.Clock.NowMs + 100);

        string logged = await daemon.Log.WaitForAsync(Wait, "timer callback ThrowingTimer failed");
        await later.Fired.Task.WaitAsync(Wait);

        Assert.Contains("the callback broke", logged);
        Dictionary<string, double> samples = PrometheusText.Parse(daemon.Exporter.Scrape());
        Assert.Equal(1, PrometheusText.Value(samples, "presenced_timer_callback_failures_total"));
    }

    private sealed class ThrowingTimer : WheelTimer
    {
        protected internal override void OnExpired(long nowMs) => throw new InvalidOperationException("the callback broke");
    }

    private sealed class SignalTimer : WheelTimer
    {
        public TaskCompletionSource Fired { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected internal override void OnExpired(long nowMs) => Fired.TrySetResult();
    }
}
