using PresenceD.Server.Backplane;

namespace PresenceD.Server.Rooms;

/// <summary>
/// Presence bookkeeping of one local room, beside its member set: the lock that orders joins, leaves,
/// updates, remote presence events and history appends (so a joiner's JOINED precedes every diff and
/// message it receives, and history offsets reach each member in order), the counts COUNT reports, and,
/// in a cluster, the replica of the room's members on other nodes.
/// </summary>
internal sealed class RoomPresence
{
    private readonly TaskCompletionSource? _ready;
    private volatile bool _isReady;

    public RoomPresence(bool historyEnabled, bool clustered)
    {
        HistoryEnabled = historyEnabled;
        if (clustered) _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        else _isReady = true;
    }

    /// <summary>The presence lock (this object's monitor, so a room costs no extra lock object).</summary>
    public object Sync => this;

    /// <summary>True when history_rooms matched the room when it was created locally.</summary>
    public bool HistoryEnabled { get; }

    /// <summary>Visible local members (connections). Written under <see cref="Sync"/>.</summary>
    public int LocalConnections { get; private set; }

    private Dictionary<string, RemoteMember>? _remote;

    /// <summary>The room's members on other nodes, by conn id (cluster only; created on first use). Under <see cref="Sync"/>.</summary>
    public Dictionary<string, RemoteMember> Remote => _remote ??= new(StringComparer.Ordinal);

    /// <summary>Every member this node knows of: local visible ones and the remote replica.</summary>
    public int Connections => LocalConnections + (_remote?.Count ?? 0);

    // Distinct users (local and remote): most rooms hold one user (or a few) for long stretches, so the first
    // user is kept in two fields and a dictionary only appears once a second distinct user joins. Under Sync.
    private string? _soleUser;
    private int _soleUserConnections;
    private Dictionary<string, int>? _connectionsByUser;

    /// <summary>Distinct users. Read without the lock: a count, not a consistent snapshot.</summary>
    public int Users => _connectionsByUser?.Count ?? (_soleUser is null ? 0 : 1);

    /// <summary>
    /// True once the remote replica was loaded (at once standalone). A joiner waits for it so its JOINED
    /// snapshot already lists the other nodes' members.
    /// </summary>
    public bool IsReady => _isReady;

    /// <summary>Completes when <see cref="IsReady"/> turns true.</summary>
    public Task Ready => _ready?.Task ?? Task.CompletedTask;

    /// <summary>Non-null while a snapshot of the room is read from Redis: remote events applied meanwhile, to replay onto it.</summary>
    public List<RecordedChange>? Recording { get; set; }

    /// <summary>The backplane's per-room data (channel and key names), set once when the room opens.</summary>
    public object? BackplaneState { get; set; }

    /// <summary>Cluster history rooms: the offset of the last MESSAGE fanned out to local members. Under <see cref="Sync"/>.</summary>
    public long LastDeliveredOffset { get; set; }

    /// <summary>Cluster history rooms: the epoch of the room's Redis stream as last seen. Under <see cref="Sync"/>.</summary>
    public string HistoryEpoch { get; set; } = "";

    public void MarkReady()
    {
        _isReady = true;
        _ready?.TrySetResult();
    }

    public void AddLocal(string user)
    {
        LocalConnections++;
        AddUser(user);
    }

    public void RemoveLocal(string user)
    {
        LocalConnections--;
        RemoveUser(user);
    }

    public void AddUser(string user)
    {
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
}
