namespace PresenceD.Server.Sessions;

/// <summary>Users with at least one live (hello-done) connection on this node, for ONLINE.</summary>
internal sealed class OnlineUsers
{
    private readonly Dictionary<string, int> _connections = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock) return _connections.Count;
        }
    }

    public void Add(string user)
    {
        lock (_lock) _connections[user] = _connections.GetValueOrDefault(user) + 1;
    }

    public void Remove(string user)
    {
        lock (_lock)
        {
            int left = _connections.GetValueOrDefault(user) - 1;
            if (left <= 0) _connections.Remove(user);
            else _connections[user] = left;
        }
    }

    public bool IsOnline(ReadOnlySpan<char> user)
    {
        lock (_lock) return _connections.GetAlternateLookup<ReadOnlySpan<char>>().ContainsKey(user);
    }
}
