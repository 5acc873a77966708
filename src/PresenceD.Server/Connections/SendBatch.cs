using PresenceD.Protocol.Framing;

namespace PresenceD.Server.Connections;

/// <summary>
/// The connections one entry point (a socket read, a backplane delivery, a timer expiry, a query's completion)
/// queued frames to: each is handed to the <see cref="SendScheduler"/> once, when the batch is disposed, so a
/// burst of publishes costs one send per recipient (nats-server's "flush per read for every recipient
/// touched"). Connections found over their send queue meanwhile are closed then too, outside every lock the
/// entry point took. Open one with <c>using SendBatch batch = SendBatch.Open();</c> and pass it down.
/// </summary>
internal sealed class SendBatch : IDisposable
{
    // One spare per thread, so opening a batch allocates nothing; a nested open (rare) gets a fresh one.
    [ThreadStatic] private static SendBatch? t_spare;

    private readonly FrameBuffer _frame = new(4096);
    private Connection[] _touched = new Connection[64];
    private int _touchedCount;
    private Connection[] _overflowed = [];
    private int _overflowedCount;

    private SendBatch()
    {
    }

    public static SendBatch Open()
    {
        SendBatch? batch = t_spare;
        if (batch is null) return new SendBatch();
        t_spare = null;
        return batch;
    }

    /// <summary>
    /// An empty buffer to encode one frame into before it is queued to its recipients. It is this batch's
    /// only scratch buffer: valid until the next call, so encode, deliver, then encode the next frame.
    /// </summary>
    public FrameBuffer NewFrame()
    {
        _frame.Clear();
        return _frame;
    }

    /// <summary>Records that <paramref name="connection"/>'s queue went from empty to non-empty.</summary>
    public void Touch(Connection connection)
    {
        if (_touchedCount == _touched.Length) Array.Resize(ref _touched, _touched.Length * 2);
        _touched[_touchedCount++] = connection;
    }

    /// <summary>Closes <paramref name="connection"/> as a slow consumer when the batch ends (the caller may hold a room lock).</summary>
    public void CloseAsSlowConsumer(Connection connection)
    {
        if (_overflowedCount == _overflowed.Length) Array.Resize(ref _overflowed, Math.Max(4, _overflowed.Length * 2));
        _overflowed[_overflowedCount++] = connection;
    }

    /// <summary>Forgets the touched connections without sending (benchmarks, which have no sockets).</summary>
    internal void Forget()
    {
        Array.Clear(_touched, 0, _touchedCount);
        _touchedCount = 0;
    }

    /// <summary>Closes the slow consumers, hands every touched connection to its scheduler, and recycles the batch.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _overflowedCount; i++)
        {
            _overflowed[i].RequestClose(CloseReason.SlowConsumer);
            _overflowed[i] = null!;
        }
        _overflowedCount = 0;
        for (int i = 0; i < _touchedCount; i++)
        {
            Connection connection = _touched[i];
            _touched[i] = null!;
            connection.Scheduler.Schedule(connection);
        }
        _touchedCount = 0;
        if (_frame.Capacity > 64 * 1024) _frame.Release(); // one huge frame must not stay pinned to the thread
        t_spare ??= this;
    }
}
