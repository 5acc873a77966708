using System.Threading.Tasks.Sources;

namespace PresenceD.Server.Connections;

/// <summary>
/// Wakes a connection's send loop: many producers call <see cref="Set"/>, one consumer awaits
/// <see cref="WaitAsync"/>. Reusable and allocation-free (one IValueTaskSource per connection); a Set
/// before the wait makes the next wait complete at once, and extra Sets coalesce.
/// </summary>
internal sealed class SendSignal : IValueTaskSource
{
    private const int Idle = 0;
    private const int Signaled = 1;
    private const int Waiting = 2;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;

    public void Set()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state == Signaled) return;
            if (state == Idle)
            {
                if (Interlocked.CompareExchange(ref _state, Signaled, Idle) == Idle) return;
                continue;
            }
            if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
            {
                _core.SetResult(true);
                return;
            }
        }
    }

    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Signaled) == Signaled) return default;
        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle) return new ValueTask(this, _core.Version);
        // A Set slipped in between: consume it and go on without waiting.
        Interlocked.CompareExchange(ref _state, Idle, Signaled);
        return default;
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
