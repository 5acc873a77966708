using System.Diagnostics;

namespace PresenceD.Server.Expiry;

/// <summary>
/// Hashed timer wheel (after nats-server's thw.go) with intrusive doubly linked slots, so
/// Schedule, re-arm and Cancel are O(1) and allocate nothing. A timer goes to the slot of the
/// first tick boundary at or after its due time and fires when Advance reaches that boundary:
/// never early, at most one tick late. A timer due beyond one revolution stays in its slot and
/// is skipped until its round comes, so each slot is scanned once per tick that reaches it.
/// </summary>
/// <remarks>
/// Lock order: <c>_advanceGate</c> (serialises Advance, held across callbacks) before <c>_lock</c>
/// (guards slots and timer links, never held across a callback).
/// </remarks>
internal sealed class TimerWheel : IDisposable
{
    private readonly IClock _clock;
    private readonly long _tickMs;
    private readonly WheelTimer?[] _slots;
    private readonly int _slotMask;
    private readonly Lock _lock = new();
    private readonly Lock _advanceGate = new();
    private readonly ManualResetEventSlim _stopSignal = new(false);
    private Thread? _thread;
    // First tick boundary not processed yet; a timer is never placed before it.
    private long _nextTick;
    private int _count;
    private long _callbackFailures;

    public TimerWheel(IClock clock, TimeSpan tick, int slotCount = 4096)
    {
        ArgumentNullException.ThrowIfNull(clock);
        if (tick < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(tick), tick, "tick must be at least 1 ms");
        }

        if (slotCount < 1 || (slotCount & (slotCount - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(slotCount), slotCount, "slotCount must be a power of two");
        }

        _clock = clock;
        _tickMs = (long)tick.TotalMilliseconds;
        _slots = new WheelTimer?[slotCount];
        _slotMask = slotCount - 1;
        _nextTick = (clock.NowMs / _tickMs) + 1;
    }

    /// <summary>Number of timers waiting in the wheel.</summary>
    public int Count => Volatile.Read(ref _count);

    public TimeSpan Tick => TimeSpan.FromMilliseconds(_tickMs);

    public IClock Clock => _clock;

    /// <summary>Callbacks that threw; each failure is also passed to <see cref="CallbackFailed"/>.</summary>
    public long CallbackFailures => Interlocked.Read(ref _callbackFailures);

    /// <summary>Told about every exception thrown by a callback; the wheel then goes on firing.</summary>
    public Action<WheelTimer, Exception>? CallbackFailed { get; set; }

    /// <summary>Arms <paramref name="timer"/> for <paramref name="dueAtMs"/>, moving it if already armed.</summary>
    public void Schedule(WheelTimer timer, long dueAtMs)
    {
        lock (_lock)
        {
            Link(timer, dueAtMs);
        }
    }

    /// <summary>
    /// Arms <paramref name="timer"/> for <paramref name="dueAtMs"/> unless it is already armed (or about to fire) for
    /// that time or earlier: two threads that each want it to fire by their own deadline cannot undo each other.
    /// </summary>
    public void ScheduleNoLaterThan(WheelTimer timer, long dueAtMs)
    {
        lock (_lock)
        {
            if ((timer.State is WheelTimer.Scheduled or WheelTimer.Pending) && timer.DueAtMs <= dueAtMs)
            {
                return;
            }

            Link(timer, dueAtMs);
        }
    }

    private void Link(WheelTimer timer, long dueAtMs)
    {
        if (timer.State == WheelTimer.Scheduled)
        {
            Unlink(timer);
        }
        else
        {
            _count++;
        }

        long dueTick = Math.Max(CeilingTick(dueAtMs), _nextTick);
        int slot = (int)(dueTick & _slotMask);
        timer.DueAtMs = dueAtMs;
        timer.WheelSlot = slot;
        timer.WheelPrev = null;
        WheelTimer? head = _slots[slot];
        timer.WheelNext = head;
        if (head is not null)
        {
            head.WheelPrev = timer;
        }

        _slots[slot] = timer;
        // Exchange, not a plain store: Advance may be moving Pending to Running concurrently.
        Interlocked.Exchange(ref timer.State, WheelTimer.Scheduled);
    }

    /// <summary>Disarms <paramref name="timer"/>; false when it was not armed or its callback already started.</summary>
    public bool Cancel(WheelTimer timer)
    {
        lock (_lock)
        {
            switch (timer.State)
            {
                case WheelTimer.Scheduled:
                    Unlink(timer);
                    _count--;
                    Volatile.Write(ref timer.State, WheelTimer.Idle);
                    return true;
                case WheelTimer.Pending:
                    return Interlocked.CompareExchange(ref timer.State, WheelTimer.Idle, WheelTimer.Pending) == WheelTimer.Pending;
                default:
                    return false;
            }
        }
    }

    /// <summary>Fires every timer due at the clock's current time; returns how many callbacks ran.</summary>
    public int Advance()
    {
        lock (_advanceGate)
        {
            long nowMs = _clock.NowMs;
            WheelTimer? expired = CollectExpired(nowMs);
            int fired = 0;
            while (expired is not null)
            {
                WheelTimer timer = expired;
                expired = timer.FireNext;
                timer.FireNext = null;
                if (Interlocked.CompareExchange(ref timer.State, WheelTimer.Running, WheelTimer.Pending) != WheelTimer.Pending)
                {
                    continue; // cancelled or re-armed after it was collected
                }

                fired++;
                try
                {
                    timer.OnExpired(nowMs);
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref _callbackFailures);
                    CallbackFailed?.Invoke(timer, ex);
                }

                Interlocked.CompareExchange(ref timer.State, WheelTimer.Idle, WheelTimer.Running);
            }

            return fired;
        }
    }

    /// <summary>Starts a dedicated thread that calls <see cref="Advance"/> once per tick until disposed.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (_thread is not null)
            {
                throw new InvalidOperationException("The timer wheel is already running.");
            }

            ObjectDisposedException.ThrowIf(_stopSignal.IsSet, this);
            _thread = new Thread(Run) { IsBackground = true, Name = "presenced-timer-wheel" };
            _thread.Start();
        }
    }

    public void Dispose()
    {
        Thread? thread;
        lock (_lock)
        {
            if (_stopSignal.IsSet)
            {
                return;
            }

            _stopSignal.Set();
            thread = _thread;
        }

        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join();
        }
    }

    private void Run()
    {
        var wait = TimeSpan.FromMilliseconds(_tickMs);
        while (!_stopSignal.Wait(wait))
        {
            Advance();
        }
    }

    private WheelTimer? CollectExpired(long nowMs)
    {
        WheelTimer? expired = null;
        lock (_lock)
        {
            long nowTick = nowMs / _tickMs;
            long firstTick = _nextTick;
            if (nowTick - firstTick >= _slots.Length)
            {
                firstTick = nowTick - _slots.Length + 1; // a whole revolution passed: every slot once
            }

            for (long tick = firstTick; tick <= nowTick; tick++)
            {
                WheelTimer? timer = _slots[(int)(tick & _slotMask)];
                while (timer is not null)
                {
                    WheelTimer? next = timer.WheelNext;
                    if (timer.DueAtMs <= nowMs)
                    {
                        Unlink(timer);
                        _count--;
                        Volatile.Write(ref timer.State, WheelTimer.Pending);
                        timer.FireNext = expired;
                        expired = timer;
                    }

                    timer = next;
                }
            }

            _nextTick = Math.Max(_nextTick, nowTick + 1);
        }

        return Reverse(expired);
    }

    // Collected newest-first; firing oldest-first keeps earlier ticks ahead of later ones.
    private static WheelTimer? Reverse(WheelTimer? list)
    {
        WheelTimer? reversed = null;
        while (list is not null)
        {
            WheelTimer? next = list.FireNext;
            list.FireNext = reversed;
            reversed = list;
            list = next;
        }

        return reversed;
    }

    private long CeilingTick(long ms) => ms <= 0 ? 0 : ((ms - 1) / _tickMs) + 1;

    private void Unlink(WheelTimer timer)
    {
        Debug.Assert(timer.WheelSlot >= 0, "unlinking a timer that is in no slot");
        if (timer.WheelPrev is null)
        {
            _slots[timer.WheelSlot] = timer.WheelNext;
        }
        else
        {
            timer.WheelPrev.WheelNext = timer.WheelNext;
        }

        if (timer.WheelNext is not null)
        {
            timer.WheelNext.WheelPrev = timer.WheelPrev;
        }

        timer.WheelNext = null;
        timer.WheelPrev = null;
        timer.WheelSlot = -1;
    }
}
