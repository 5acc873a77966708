using BenchmarkDotNet.Attributes;
using PresenceD.Server.Expiry;

namespace PresenceD.Benchmarks.Expiry;

/// <summary>Wheel operations with 1,000,000 timers already armed (the 100k-session server has fewer).</summary>
[MemoryDiagnoser]
public class TimerWheelBenchmarks
{
    private const int Armed = 1_000_000;
    private const int HorizonMs = 15_000;
    private const int Batch = 1_000;

    private ManualClock _clock = null!;
    private TimerWheel _wheel = null!;
    private HeartbeatTimer[] _armed = null!;
    private HeartbeatTimer[] _spare = null!;
    private int _next;

    internal sealed class HeartbeatTimer : WheelTimer
    {
        public TimerWheel Wheel = null!;

        protected internal override void OnExpired(long nowMs) => Wheel.Schedule(this, nowMs + HorizonMs);
    }

    [GlobalSetup]
    public void Setup()
    {
        _clock = new ManualClock();
        _wheel = new TimerWheel(_clock, TimeSpan.FromMilliseconds(100));
        var random = new Random(7);
        _armed = new HeartbeatTimer[Armed];
        for (int i = 0; i < Armed; i++)
        {
            _armed[i] = new HeartbeatTimer { Wheel = _wheel };
            _wheel.Schedule(_armed[i], random.Next(1, HorizonMs));
        }

        _spare = new HeartbeatTimer[Batch];
        for (int i = 0; i < Batch; i++)
        {
            _spare[i] = new HeartbeatTimer { Wheel = _wheel };
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _wheel.Dispose();

    /// <summary>Moving an armed timer to a new due time (heartbeat re-arm).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void ReArm()
    {
        int start = _next;
        long now = _clock.NowMs;
        for (int i = 0; i < Batch; i++)
        {
            _wheel.Schedule(_armed[(start + i) % Armed], now + HorizonMs + i);
        }

        _next = (start + Batch) % Armed;
    }

    /// <summary>Arming an idle timer, then cancelling it: one op is one Schedule plus one Cancel.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void ScheduleThenCancel()
    {
        long due = _clock.NowMs + HorizonMs;
        HeartbeatTimer[] spare = _spare;
        for (int i = 0; i < spare.Length; i++)
        {
            _wheel.Schedule(spare[i], due + i);
        }

        for (int i = 0; i < spare.Length; i++)
        {
            _wheel.Cancel(spare[i]);
        }
    }

    /// <summary>Cancel, measured as Cancel followed by re-arming the same timer (ScheduleThenCancel minus ReArm isolates it).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void CancelThenSchedule()
    {
        int start = _next;
        long now = _clock.NowMs;
        for (int i = 0; i < Batch; i++)
        {
            HeartbeatTimer timer = _armed[(start + i) % Armed];
            _wheel.Cancel(timer);
            _wheel.Schedule(timer, now + HorizonMs + i);
        }

        _next = (start + Batch) % Armed;
    }

    /// <summary>One tick of 100 ms: about Armed * 100 / HorizonMs (~6,700) timers fire and each re-arms itself.
    /// Reported per fired timer.</summary>
    [Benchmark(OperationsPerInvoke = Armed / (HorizonMs / 100))]
    public int ExpireAndReArm()
    {
        _clock.NowMs += 100;
        return _wheel.Advance();
    }

    /// <summary>A tick with nothing due beyond the far-future entries sharing the slot.</summary>
    [Benchmark]
    public int AdvanceIdleTick()
    {
        // Same time as last Advance: rescans only the current slot.
        return _wheel.Advance();
    }
}
