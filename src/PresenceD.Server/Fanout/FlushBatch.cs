using PresenceD.Server.Connections;

namespace PresenceD.Server.Fanout;

/// <summary>
/// The connections a receive path queued frames to while it parsed one read: each is handed to the
/// <see cref="Flusher"/> once, after the whole read was processed, so a burst of publishes costs one send per
/// recipient (nats-server's "flush per read for every recipient touched"). One per thread, used between two
/// points where the thread may switch work.
/// </summary>
internal sealed class FlushBatch
{
    [ThreadStatic] private static FlushBatch? t_current;

    private Connection[] _items = new Connection[64];
    private int _count;

    public static FlushBatch Current => t_current ??= new FlushBatch();

    public void Add(Connection connection)
    {
        if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        _items[_count++] = connection;
    }

    /// <summary>Forgets the touched connections without sending (benchmarks, which have no sockets).</summary>
    internal void Forget()
    {
        Array.Clear(_items, 0, _count);
        _count = 0;
    }

    /// <summary>Hands every touched connection to the flusher and forgets them.</summary>
    public void Flush()
    {
        for (int i = 0; i < _count; i++)
        {
            Flusher.Schedule(_items[i]);
            _items[i] = null!;
        }
        _count = 0;
    }
}
