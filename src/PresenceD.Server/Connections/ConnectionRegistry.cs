using System.Collections.Concurrent;

namespace PresenceD.Server.Connections;

/// <summary>
/// Every connection whose socket is still open, lingering ones included (for drain), and the places counted
/// against max_connections from accept (before HELLO) until the connection closes or starts to linger. Refused
/// connections that linger hold one of a few refusals instead of a place.
/// </summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, Connection> _connections = new();
    private int _count;
    private int _live;
    private int _refusals;

    /// <summary>Places taken: open connections, not counting those that linger after their close.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Sockets still open, lingering and refused ones included.</summary>
    public int Live => Volatile.Read(ref _live);

    /// <summary>Reserves a place; false when the server is full (the caller rolls nothing back).</summary>
    public bool TryReserve(int max)
    {
        if (Interlocked.Increment(ref _count) <= max) return true;
        Interlocked.Decrement(ref _count);
        return false;
    }

    /// <summary>Gives back a place (a connection that never started, closed, or lingers).</summary>
    public void Unreserve() => Interlocked.Decrement(ref _count);

    /// <summary>Reserves one of <paramref name="max"/> refusals that may linger at once; false: close the refused socket at once.</summary>
    public bool TryReserveRefusal(int max)
    {
        if (Interlocked.Increment(ref _refusals) <= max) return true;
        Interlocked.Decrement(ref _refusals);
        return false;
    }

    public void ReleaseRefusal() => Interlocked.Decrement(ref _refusals);

    public void Add(Connection connection)
    {
        if (_connections.TryAdd(connection.Id, connection)) Interlocked.Increment(ref _live);
    }

    /// <summary>The socket is closed (its place was given back by the connection).</summary>
    public void Remove(Connection connection)
    {
        if (_connections.TryRemove(connection.Id, out _)) Interlocked.Decrement(ref _live);
    }

    public ICollection<Connection> All => _connections.Values;
}
