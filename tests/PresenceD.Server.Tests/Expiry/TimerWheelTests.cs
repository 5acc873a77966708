using PresenceD.Server.Expiry;

namespace PresenceD.Server.Tests.Expiry;

public sealed class TimerWheelTests
{
    private sealed class CountingTimer : WheelTimer
    {
        private int _fired;

        public int Fired => Volatile.Read(ref _fired);

        public long LastFiredAt { get; private set; } = -1;

        public Action<CountingTimer, long>? OnFire { get; init; }

        protected internal override void OnExpired(long nowMs)
        {
            Interlocked.Increment(ref _fired);
            LastFiredAt = nowMs;
            OnFire?.Invoke(this, nowMs);
        }
    }

    [Fact]
    public void Fires_at_due_time_and_not_before()
    {
        var clock = new FakeClock(1_000);
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(100), 64);
        var timer = new CountingTimer();

        wheel.Schedule(timer, 1_300);
        Assert.True(timer.IsScheduled);

        clock.Set(1_200);
        Assert.Equal(0, wheel.Advance());
        clock.Set(1_299);
        Assert.Equal(0, wheel.Advance());
        Assert.Equal(0, timer.Fired);

        clock.Set(1_300);
        Assert.Equal(1, wheel.Advance());
        Assert.Equal(1, timer.Fired);
        Assert.Equal(1_300, timer.LastFiredAt);
        Assert.False(timer.IsScheduled);
        Assert.Equal(0, wheel.Count);

        clock.Set(5_000);
        Assert.Equal(0, wheel.Advance());
        Assert.Equal(1, timer.Fired);
    }

    [Fact]
    public void Schedule_no_later_than_only_ever_moves_a_timer_earlier_and_arms_one_that_is_not_armed()
    {
        var clock = new FakeClock(1_000);
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(100), 64);
        var timer = new CountingTimer();

        wheel.ScheduleNoLaterThan(timer, 1_500);
        Assert.Equal(1_500, timer.DueAt);
        wheel.ScheduleNoLaterThan(timer, 1_900); // later: kept at 1_500
        Assert.Equal(1_500, timer.DueAt);
        wheel.ScheduleNoLaterThan(timer, 1_200); // earlier: moved
        Assert.Equal(1_200, timer.DueAt);
        Assert.Equal(1, wheel.Count);

        clock.Set(1_200);
        Assert.Equal(1, wheel.Advance());
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void A_callback_that_re_arms_no_later_than_keeps_an_earlier_deadline_another_thread_set_meanwhile()
    {
        var clock = new FakeClock(1_000);
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(100), 64);
        var timer = new CountingTimer
        {
            OnFire = (t, now) =>
            {
                if (t.Fired > 1) return;
                wheel.ScheduleNoLaterThan(t, now + 300); // what another thread asks while the callback runs
                wheel.ScheduleNoLaterThan(t, now + 900); // the callback's own, later re-arm
            },
        };
        wheel.Schedule(timer, 1_100);
        clock.Set(1_100);
        Assert.Equal(1, wheel.Advance());
        Assert.Equal(1_400, timer.DueAt);
        clock.Set(1_400);
        Assert.Equal(1, wheel.Advance());
        Assert.Equal(2, timer.Fired);
    }

    [Fact]
    public void A_due_time_between_ticks_fires_at_the_next_tick_boundary()
    {
        var clock = new FakeClock(1_000);
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(100), 64);
        var timer = new CountingTimer();
        wheel.Schedule(timer, 1_250);

        clock.Set(1_250);
        Assert.Equal(0, wheel.Advance());
        clock.Set(1_299);
        Assert.Equal(0, wheel.Advance());
        clock.Set(1_300);
        Assert.Equal(1, wheel.Advance());
    }

    [Fact]
    public void A_late_advance_fires_everything_overdue_once()
    {
        var clock = new FakeClock();
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(10), 16);
        var timers = Enumerable.Range(0, 50).Select(_ => new CountingTimer()).ToArray();
        for (int i = 0; i < timers.Length; i++)
        {
            wheel.Schedule(timers[i], i * 7);
        }

        clock.Set(10_000); // many revolutions in one step
        Assert.Equal(50, wheel.Advance());
        Assert.All(timers, t => Assert.Equal(1, t.Fired));
        Assert.Equal(0, wheel.Advance());
    }

    [Fact]
    public void Scheduling_in_the_past_fires_on_the_next_tick()
    {
        var clock = new FakeClock(10_000);
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(100), 64);
        wheel.Advance();
        var timer = new CountingTimer();

        wheel.Schedule(timer, 3_000);

        Assert.Equal(0, wheel.Advance());
        clock.Set(10_100);
        Assert.Equal(1, wheel.Advance());
        Assert.Equal(1, timer.Fired);
    }

    [Fact]
    public void Cancel_prevents_firing_and_reports_whether_it_was_armed()
    {
        var clock = new FakeClock();
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(10), 64);
        var cancelled = new CountingTimer();
        var kept = new CountingTimer();
        wheel.Schedule(cancelled, 100);
        wheel.Schedule(kept, 100);

        Assert.True(wheel.Cancel(cancelled));
        Assert.False(cancelled.IsScheduled);
        Assert.False(wheel.Cancel(cancelled));
        Assert.Equal(1, wheel.Count);

        clock.Set(200);
        Assert.Equal(1, wheel.Advance());
        Assert.Equal(0, cancelled.Fired);
        Assert.Equal(1, kept.Fired);
        Assert.False(wheel.Cancel(kept));
    }

    [Fact]
    public void Schedule_of_an_armed_timer_moves_it()
    {
        var clock = new FakeClock();
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(10), 64);
        var timer = new CountingTimer();
        wheel.Schedule(timer, 100);
        wheel.Schedule(timer, 300);
        Assert.Equal(1, wheel.Count);

        clock.Set(150);
        Assert.Equal(0, wheel.Advance());
        clock.Set(300);
        Assert.Equal(1, wheel.Advance());
        Assert.Equal(1, timer.Fired);
    }

    [Fact]
    public void A_callback_can_rearm_its_own_timer_lazily()
    {
        var clock = new FakeClock();
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(100), 64);
        long lastSeen = 0;
        const long timeout = 1_000;
        int expiredForGood = 0;
        var session = new CountingTimer
        {
            OnFire = (self, now) =>
            {
                long due = Volatile.Read(ref lastSeen) + timeout;
                if (due > now)
                {
                    wheel.Schedule(self, due);
                }
                else
                {
                    expiredForGood++;
                }
            },
        };
        wheel.Schedule(session, timeout);

        for (long now = 100; now <= 5_000; now += 100)
        {
            clock.Set(now);
            if (now <= 3_000)
            {
                lastSeen = now; // the client keeps pinging until t=3000
            }

            wheel.Advance();
        }

        Assert.Equal(1, expiredForGood);
        Assert.Equal(4_000, session.LastFiredAt);
        Assert.False(session.IsScheduled);
    }

    [Fact]
    public void Timers_beyond_one_revolution_wait_for_their_round()
    {
        var clock = new FakeClock();
        // 8 slots of 10 ms: one revolution is 80 ms.
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(10), 8);
        var near = new CountingTimer();
        var far = new CountingTimer();
        var farther = new CountingTimer();
        wheel.Schedule(near, 30);
        wheel.Schedule(far, 30 + 80);
        wheel.Schedule(farther, 30 + (80 * 5));

        var fires = new List<(long Now, int Count)>();
        for (long now = 10; now <= 600; now += 10)
        {
            clock.Set(now);
            int fired = wheel.Advance();
            if (fired > 0)
            {
                fires.Add((now, fired));
            }
        }

        Assert.Equal([(30L, 1), (110L, 1), (430L, 1)], fires);
        Assert.Equal(30, near.LastFiredAt);
        Assert.Equal(110, far.LastFiredAt);
        Assert.Equal(430, farther.LastFiredAt);
    }

    [Fact]
    public void Many_timers_each_fire_exactly_once_at_the_first_tick_at_or_after_their_due_time()
    {
        var clock = new FakeClock();
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(5), 256);
        var random = new Random(42);
        var timers = new CountingTimer[20_000];
        var due = new long[timers.Length];
        for (int i = 0; i < timers.Length; i++)
        {
            timers[i] = new CountingTimer();
            due[i] = random.Next(0, 20_000);
            wheel.Schedule(timers[i], due[i]);
        }

        int total = 0;
        for (long now = 0; now <= 20_000; now += random.Next(1, 40))
        {
            clock.Set(now);
            total += wheel.Advance();
            for (int i = 0; i < timers.Length; i += 97)
            {
                Assert.Equal((due[i] + 4) / 5 * 5 <= now ? 1 : 0, timers[i].Fired);
            }
        }

        clock.Set(20_000);
        total += wheel.Advance();
        Assert.Equal(timers.Length, total);
        for (int i = 0; i < timers.Length; i++)
        {
            Assert.Equal(1, timers[i].Fired);
            Assert.True(timers[i].LastFiredAt >= due[i]);
        }
    }

    [Fact]
    public void A_throwing_callback_is_reported_and_does_not_stop_the_others()
    {
        var clock = new FakeClock();
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(10), 64);
        var failures = new List<Exception>();
        wheel.CallbackFailed = (_, ex) => failures.Add(ex);
        var bad = new CountingTimer { OnFire = (_, _) => throw new InvalidOperationException("boom") };
        var good = new CountingTimer();
        wheel.Schedule(bad, 10);
        wheel.Schedule(good, 10);

        clock.Set(10);
        Assert.Equal(2, wheel.Advance());
        Assert.Equal(1, good.Fired);
        Assert.Single(failures);
        Assert.Equal(1, wheel.CallbackFailures);
    }

    [Fact]
    public async Task Concurrent_schedule_cancel_and_advance_keep_the_wheel_consistent()
    {
        var clock = new FakeClock();
        using var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(1), 1024);
        const int threads = 4;
        const int timersPerThread = 2_000;
        var timers = new CountingTimer[threads][];
        using var stop = new CancellationTokenSource();

        var advancer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                clock.AdvanceBy(1);
                wheel.Advance();
            }
        });

        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var random = new Random(t);
            var own = timers[t] = new CountingTimer[timersPerThread];
            for (int i = 0; i < own.Length; i++)
            {
                own[i] = new CountingTimer();
            }

            for (int round = 0; round < 50_000; round++)
            {
                CountingTimer timer = own[random.Next(own.Length)];
                if (random.Next(3) == 0)
                {
                    wheel.Cancel(timer);
                }
                else
                {
                    wheel.Schedule(timer, clock.NowMs + random.Next(0, 3_000));
                }
            }
        });

        await stop.CancelAsync();
        await advancer;

        // Leave every timer armed far in the future, from all threads again: none may be lost or doubled. This
        // runs after the advancer stopped: on a loaded machine it can move the clock past "far" while a slow
        // thread is still busy, and a timer that fired then would be counted as lost.
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            foreach (CountingTimer timer in timers[t])
            {
                wheel.Schedule(timer, clock.NowMs + 1_000_000);
            }
        });

        Assert.Equal(threads * timersPerThread, wheel.Count);
        Assert.All(timers.SelectMany(x => x), t => Assert.True(t.IsScheduled));
        var before = timers.SelectMany(x => x).Select(t => t.Fired).ToArray();

        clock.AdvanceBy(2_000_000);
        Assert.Equal(threads * timersPerThread, wheel.Advance());
        Assert.Equal(0, wheel.Count);
        var after = timers.SelectMany(x => x).Select(t => t.Fired).ToArray();
        Assert.All(before.Zip(after), pair => Assert.Equal(pair.First + 1, pair.Second));
    }

    [Fact]
    public void Background_thread_fires_timers_and_stops_on_dispose()
    {
        var clock = new FakeClock();
        var wheel = new TimerWheel(clock, TimeSpan.FromMilliseconds(1), 64);
        using var fired = new ManualResetEventSlim();
        var timer = new CountingTimer { OnFire = (_, _) => fired.Set() };
        wheel.Schedule(timer, 50);
        wheel.Start();

        clock.Set(50);
        Assert.True(fired.Wait(TimeSpan.FromSeconds(30)));
        wheel.Dispose();

        wheel.Schedule(timer, 60);
        clock.Set(100);
        // An absence cannot be awaited: the pause is the test, a chance for a thread that outlived Dispose to fire it.
        Thread.Sleep(20);
        Assert.Equal(1, timer.Fired); // no thread advances a disposed wheel
    }
}
