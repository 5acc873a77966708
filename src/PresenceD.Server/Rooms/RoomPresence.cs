namespace PresenceD.Server.Rooms;

/// <summary>
/// Presence bookkeeping of one local room, beside its member set: the lock that orders joins, leaves,
/// updates and history appends (so a joiner's JOINED precedes every diff and message it receives, and
/// history offsets reach each member in order), and the counts COUNT reports.
/// </summary>
internal sealed class RoomPresence
{
    public RoomPresence(bool historyEnabled) => HistoryEnabled = historyEnabled;

    public Lock Sync { get; } = new();

    /// <summary>True when history_rooms matched the room when it was created locally.</summary>
    public bool HistoryEnabled { get; }

    /// <summary>Visible members (connections). Written under <see cref="Sync"/>.</summary>
    public int Connections { get; set; }

    /// <summary>Connections per user, for the distinct-user count. Under <see cref="Sync"/>.</summary>
    public Dictionary<string, int> ConnectionsByUser { get; } = new(StringComparer.Ordinal);

    public void AddUser(string user)
    {
        Connections++;
        ConnectionsByUser[user] = ConnectionsByUser.GetValueOrDefault(user) + 1;
    }

    public void RemoveUser(string user)
    {
        Connections--;
        int left = ConnectionsByUser.GetValueOrDefault(user) - 1;
        if (left <= 0) ConnectionsByUser.Remove(user);
        else ConnectionsByUser[user] = left;
    }

    /// <summary>Distinct users. Read without the lock: a count, not a consistent snapshot.</summary>
    public int Users => ConnectionsByUser.Count;
}
