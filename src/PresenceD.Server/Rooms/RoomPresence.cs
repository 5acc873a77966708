namespace PresenceD.Server.Rooms;

/// <summary>
/// Presence bookkeeping of one local room, beside its member set: the lock that orders joins, leaves,
/// updates and history appends (so a joiner's JOINED precedes every diff and message it receives, and
/// history offsets reach each member in order), and the counts COUNT reports.
/// </summary>
internal sealed class RoomPresence
{
    public RoomPresence(bool historyEnabled) => HistoryEnabled = historyEnabled;

    /// <summary>The presence lock (this object's monitor, so a room costs no extra lock object).</summary>
    public object Sync => this;

    /// <summary>True when history_rooms matched the room when it was created locally.</summary>
    public bool HistoryEnabled { get; }

    /// <summary>Visible members (connections). Written under <see cref="Sync"/>.</summary>
    public int Connections { get; set; }

    // Distinct users: most rooms hold one user (or a few) for long stretches, so the first user is kept in
    // two fields and a dictionary only appears once a second distinct user joins. Under Sync.
    private string? _soleUser;
    private int _soleUserConnections;
    private Dictionary<string, int>? _connectionsByUser;

    public void AddUser(string user)
    {
        Connections++;
        if (_connectionsByUser is not null)
        {
            _connectionsByUser[user] = _connectionsByUser.GetValueOrDefault(user) + 1;
        }
        else if (_soleUser is null)
        {
            _soleUser = user;
            _soleUserConnections = 1;
        }
        else if (_soleUser == user)
        {
            _soleUserConnections++;
        }
        else
        {
            _connectionsByUser = new Dictionary<string, int>(StringComparer.Ordinal) { [_soleUser] = _soleUserConnections, [user] = 1 };
            _soleUser = null;
        }
    }

    public void RemoveUser(string user)
    {
        Connections--;
        if (_connectionsByUser is not null)
        {
            int left = _connectionsByUser.GetValueOrDefault(user) - 1;
            if (left <= 0) _connectionsByUser.Remove(user);
            else _connectionsByUser[user] = left;
        }
        else if (_soleUser == user && --_soleUserConnections == 0)
        {
            _soleUser = null;
        }
    }

    /// <summary>Distinct users. Read without the lock: a count, not a consistent snapshot.</summary>
    public int Users => _connectionsByUser?.Count ?? (_soleUser is null ? 0 : 1);
}
