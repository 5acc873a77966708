namespace PresenceD.Server.Sessions;

/// <summary>Users with at least one live (hello-done) connection on this node, for ONLINE.</summary>
internal sealed class OnlineUsers
{
    // user -> (the first connection's copy of the name, connection count): later connections of the user
    // share that one string instead of each keeping its own.
    private readonly Dictionary<string, (string Name, int Connections)> _connections = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock) return _connections.Count;
        }
    }

    /// <summary>Counts a connection of <paramref name="user"/>; returns the shared copy of the name.</summary>
    public string Add(string user)
    {
        lock (_lock)
        {
            (string name, int count) = _connections.GetValueOrDefault(user, (user, 0));
            _connections[user] = (name, count + 1);
            return name;
        }
    }

    public void Remove(string user)
    {
        lock (_lock)
        {
            (string name, int count) = _connections.GetValueOrDefault(user, (user, 0));
            if (count <= 1) _connections.Remove(user);
            else _connections[user] = (name, count - 1);
        }
    }

    public bool IsOnline(ReadOnlySpan<char> user)
    {
        lock (_lock) return _connections.GetAlternateLookup<ReadOnlySpan<char>>().ContainsKey(user);
    }
}
