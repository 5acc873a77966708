namespace PresenceD.Server.Rooms;

/// <summary>
/// One local room, owned as a unit: its members (the lock-free member set it extends), its presence counts,
/// its replica of the members on other nodes, and the one broker chosen when it was created, which reaches
/// those nodes and owns the room's history. The room's lock (<see cref="Sync"/>, this object's monitor, also
/// the member set's write lock) orders joins, leaves, updates, remote presence events and history appends,
/// so a joiner's JOINED precedes every diff and message it receives and offsets reach each member in order;
/// publishes to rooms without history take no lock at all. Room.Presence.cs holds the local changes,
/// Room.Publish.cs the messages, Room.Remote.cs what a broker applies from other nodes.
/// </summary>
internal sealed partial class Room : MemberSet<RoomMember>
{
    private Dictionary<string, RemoteMember>? _remote;
    // Distinct users (local and remote): most rooms hold one user (or a few) for long stretches, so the first
    // user is kept in two fields and a dictionary only appears once a second distinct user joins. Under Sync.
    private string? _soleUser;
    private int _soleUserConnections;
    private Dictionary<string, int>? _connectionsByUser;

    public Room(string name, RoomHub hub)
        : base(name)
    {
        Hub = hub;
        Broker = hub.Backplane.CreateBroker(this);
    }

    /// <summary>The node's rooms, whose settings, clock and counters this room uses.</summary>
    public RoomHub Hub { get; }

    public IRoomBroker Broker { get; }

    public IRoomHistory History => Broker.History;

    /// <summary>The room's lock.</summary>
    public object Sync => this;

    /// <summary>True once the room's remote members are known (<see cref="IRoomBroker.Ready"/>).</summary>
    public bool IsReady => Broker.Ready.IsCompleted;

    /// <summary>Visible local members (connections). Written under <see cref="Sync"/>.</summary>
    public int LocalConnections { get; private set; }

    /// <summary>The room's members on other nodes, by conn id (empty standalone). Under <see cref="Sync"/>.</summary>
    public IReadOnlyCollection<RemoteMember> RemoteMembers => _remote is null ? [] : _remote.Values;

    /// <summary>Every member this node knows of: local visible ones and the remote replica.</summary>
    public int Connections => LocalConnections + (_remote?.Count ?? 0);

    /// <summary>Distinct users. Read without the lock: a count, not a consistent snapshot.</summary>
    public int Users => _connectionsByUser?.Count ?? (_soleUser is null ? 0 : 1);

    /// <summary>True when <paramref name="user"/> has a visible connection in the room, on this node or another.</summary>
    public bool HasUser(string user)
    {
        lock (Sync)
        {
            return _connectionsByUser?.ContainsKey(user) ?? _soleUser == user;
        }
    }

    private void AddUser(string user)
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

    private void RemoveUser(string user)
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

    private static bool MetaEquals(byte[]? a, byte[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
