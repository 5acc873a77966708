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

    public Lock Sync { get; } = new();

    /// <summary>True when history_rooms matched the room when it was created locally.</summary>
    public bool HistoryEnabled { get; }

    /// <summary>Visible local members (connections). Written under <see cref="Sync"/>.</summary>
    public int LocalConnections { get; private set; }

    /// <summary>The room's members on other nodes, by conn id (cluster only). Under <see cref="Sync"/>.</summary>
    public Dictionary<string, RemoteMember> Remote { get; } = new(StringComparer.Ordinal);

    /// <summary>Every member this node knows of: local visible ones and the remote replica.</summary>
    public int Connections => LocalConnections + Remote.Count;

    /// <summary>Connections per user (local and remote), for the distinct-user count. Under <see cref="Sync"/>.</summary>
    public Dictionary<string, int> ConnectionsByUser { get; } = new(StringComparer.Ordinal);

    /// <summary>Distinct users. Read without the lock: a count, not a consistent snapshot.</summary>
    public int Users => ConnectionsByUser.Count;

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

    public void AddUser(string user) => ConnectionsByUser[user] = ConnectionsByUser.GetValueOrDefault(user) + 1;

    public void RemoveUser(string user)
    {
        int left = ConnectionsByUser.GetValueOrDefault(user) - 1;
        if (left <= 0) ConnectionsByUser.Remove(user);
        else ConnectionsByUser[user] = left;
    }
}
