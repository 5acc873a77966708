using System.Collections.Concurrent;

namespace PresenceD.Server.Connections;

/// <summary>Every open connection, counted from accept (before HELLO), for max_connections and drain.</summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, Connection> _connections = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Reserves a place; false when the server is full (the caller rolls nothing back).</summary>
    public bool TryReserve(int max)
    {
        if (Interlocked.Increment(ref _count) <= max) return true;
        Interlocked.Decrement(ref _count);
        return false;
    }

    /// <summary>Gives back a place reserved for a connection that never started.</summary>
    public void Unreserve() => Interlocked.Decrement(ref _count);

    public void Add(Connection connection) => _connections[connection.Id] = connection;

    public void Remove(Connection connection)
    {
        if (_connections.TryRemove(connection.Id, out _)) Interlocked.Decrement(ref _count);
    }

    public ICollection<Connection> All => _connections.Values;
}
