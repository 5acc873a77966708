using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace PresenceD.Client.Internal;

/// <summary>
/// Hands events from the receive loop to the application without letting a handler block the socket:
/// events queue in arrival order and are raised one at a time, by a background task, by posts to a
/// <see cref="SynchronizationContext"/>, or by <see cref="DispatchPending"/> (manual mode). At most
/// <c>maxPending</c> wait: one more drops the oldest, which is counted. A handler that throws is reported to
/// the trace and skipped.
/// </summary>
internal sealed class EventDispatcher : IDisposable
{
    private static readonly SendOrPostCallback RunPosted = state => ((EventDispatcher)state!).OnPosted();

    private readonly ConcurrentQueue<EventArgs> _queue = new ConcurrentQueue<EventArgs>();
    private readonly Action<EventArgs> _raise;
    private readonly int _maxPending;
    private readonly SemaphoreSlim? _signal;
    private readonly SynchronizationContext? _context;
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();
    private int _pending;
    private long _dropped;
    private int _dispatching;
    private int _posted;

    /// <summary>
    /// Creates the dispatcher. <paramref name="context"/> is used in <see cref="EventDispatchMode.SynchronizationContext"/>
    /// mode only, and must then be non-null.
    /// </summary>
    public EventDispatcher(EventDispatchMode mode, int maxPending, SynchronizationContext? context, Action<EventArgs> raise)
    {
        if (maxPending < 1) throw new ArgumentOutOfRangeException(nameof(maxPending), maxPending, "MaxPendingEvents must be at least 1");
        _raise = raise;
        _maxPending = maxPending;
        switch (mode)
        {
            case EventDispatchMode.Background:
                _signal = new SemaphoreSlim(0);
                _ = Task.Run(RunAsync);
                break;
            case EventDispatchMode.SynchronizationContext:
                _context = context ?? throw new ArgumentNullException(nameof(context));
                break;
        }
    }

    public int Pending => Volatile.Read(ref _pending);

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Post(EventArgs args)
    {
        _queue.Enqueue(args);
        if (Interlocked.Increment(ref _pending) > _maxPending && _queue.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _pending);
            Interlocked.Increment(ref _dropped);
        }
        if (_signal is not null) _signal.Release();
        else if (_context is not null && Interlocked.Exchange(ref _posted, 1) == 0) _context.Post(RunPosted, this);
    }

    /// <summary>Raises every queued event on the calling thread; returns how many.</summary>
    public int DispatchPending()
    {
        // One dispatcher at a time keeps events in order even if the application calls this from two threads.
        if (Interlocked.Exchange(ref _dispatching, 1) == 1) return 0;
        int raised = 0;
        try
        {
            while (_queue.TryDequeue(out EventArgs? args))
            {
                Interlocked.Decrement(ref _pending);
                raised++;
                try
                {
                    _raise(args);
                }
                catch (Exception e)
                {
                    Trace.TraceError($"PresenceD.Client: an event handler threw {e}");
                }
            }
        }
        finally
        {
            Volatile.Write(ref _dispatching, 0);
        }
        return raised;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _signal?.Release();
    }

    /// <summary>On the context: one post raises everything queued; an event queued after the flag is cleared posts again.</summary>
    private void OnPosted()
    {
        Volatile.Write(ref _posted, 0);
        DispatchPending();
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _signal!.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                DispatchPending();
                return;
            }
            DispatchPending();
        }
    }
}
