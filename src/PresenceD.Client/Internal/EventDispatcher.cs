using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace PresenceD.Client.Internal;

/// <summary>
/// Hands events from the receive loop to the application without letting a handler block the socket:
/// events queue in arrival order and are raised one at a time, by a background task or by
/// <see cref="DispatchPending"/> (manual mode). A handler that throws is reported to the trace and skipped.
/// </summary>
internal sealed class EventDispatcher : IDisposable
{
    private readonly ConcurrentQueue<QueuedEvent> _queue = new ConcurrentQueue<QueuedEvent>();
    private readonly Action<EventArgs> _raise;
    private readonly SemaphoreSlim? _signal;
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();
    private int _dispatching;

    public EventDispatcher(EventDispatchMode mode, Action<EventArgs> raise)
    {
        _raise = raise;
        if (mode == EventDispatchMode.Background)
        {
            _signal = new SemaphoreSlim(0);
            _ = Task.Run(RunAsync);
        }
    }

    public int Pending => _queue.Count;

    public void Post(EventArgs args)
    {
        _queue.Enqueue(new QueuedEvent(args));
        _signal?.Release();
    }

    /// <summary>Raises every queued event on the calling thread; returns how many.</summary>
    public int DispatchPending()
    {
        // One dispatcher at a time keeps events in order even if the application calls this from two threads.
        if (Interlocked.Exchange(ref _dispatching, 1) == 1) return 0;
        int raised = 0;
        try
        {
            while (_queue.TryDequeue(out QueuedEvent item))
            {
                raised++;
                try
                {
                    _raise(item.Args);
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

    private readonly struct QueuedEvent
    {
        public QueuedEvent(EventArgs args) => Args = args;

        public EventArgs Args { get; }
    }
}
