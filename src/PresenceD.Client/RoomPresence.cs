using System;
using System.Collections.Generic;
using System.Linq;

namespace PresenceD.Client;

/// <summary>
/// The members of one joined room as this client knows them: the JOINED snapshot with every PRESENCE_DIFF since
/// applied (leaves before joins). Members are per connection; users are counted across their connections.
/// Thread-safe: reads return copies. When the server capped the snapshot (<see cref="IsComplete"/> false) the member
/// list is partial, <see cref="Total"/> stays exact, and per-user events cover only the members this client has seen.
/// </summary>
public sealed class RoomPresence
{
    private readonly object _lock = new object();
    private readonly Dictionary<string, Member> _byConn = new Dictionary<string, Member>(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _connectionsByUser = new Dictionary<string, int>(StringComparer.Ordinal);
    private long _total;
    private bool _complete = true;

    /// <summary>Creates an empty model for <paramref name="room"/>.</summary>
    public RoomPresence(string room) => Room = room;

    /// <summary>The room.</summary>
    public string Room { get; }

    /// <summary>Connections in the room (exact even when the snapshot was capped).</summary>
    public long Total
    {
        get { lock (_lock) return _total; }
    }

    /// <summary>False when the server's snapshot listed fewer members than the room has.</summary>
    public bool IsComplete
    {
        get { lock (_lock) return _complete; }
    }

    /// <summary>A copy of the known members.</summary>
    public IReadOnlyList<Member> Members
    {
        get { lock (_lock) return _byConn.Values.ToArray(); }
    }

    /// <summary>A copy of the users with at least one known connection in the room.</summary>
    public IReadOnlyList<string> Users
    {
        get { lock (_lock) return _connectionsByUser.Keys.ToArray(); }
    }

    /// <summary>True when <paramref name="user"/> has at least one known connection in the room.</summary>
    public bool IsUserOnline(string user)
    {
        lock (_lock) return _connectionsByUser.ContainsKey(user);
    }

    /// <summary>Known connections of <paramref name="user"/> in the room.</summary>
    public int ConnectionsOf(string user)
    {
        lock (_lock) return _connectionsByUser.TryGetValue(user, out int n) ? n : 0;
    }

    /// <summary>Replaces the state with a snapshot; the result is the change against the state before.</summary>
    internal PresenceChangedEventArgs ApplySnapshot(IReadOnlyList<Member> members, long total)
    {
        lock (_lock)
        {
            var before = new Dictionary<string, Member>(_byConn, StringComparer.Ordinal);
            var usersBefore = new HashSet<string>(_connectionsByUser.Keys, StringComparer.Ordinal);
            _byConn.Clear();
            _connectionsByUser.Clear();
            foreach (Member member in members) Add(member);
            _total = Math.Max(total, _byConn.Count);
            _complete = _byConn.Count >= total;

            List<Member>? joined = null, left = null, updated = null;
            foreach (Member member in _byConn.Values)
            {
                if (!before.TryGetValue(member.Conn, out Member? old)) (joined ??= new List<Member>()).Add(member);
                else if (!SameMeta(old.Meta, member.Meta)) (updated ??= new List<Member>()).Add(member);
            }
            foreach (Member old in before.Values)
                if (!_byConn.ContainsKey(old.Conn)) (left ??= new List<Member>()).Add(old);
            List<string>? online = null, offline = null;
            foreach (string user in _connectionsByUser.Keys)
                if (!usersBefore.Contains(user)) (online ??= new List<string>()).Add(user);
            foreach (string user in usersBefore)
                if (!_connectionsByUser.ContainsKey(user)) (offline ??= new List<string>()).Add(user);
            return new PresenceChangedEventArgs(Room, true, joined, left, updated, online, offline, _total);
        }
    }

    /// <summary>Applies a PRESENCE_DIFF (leaves first); a conn in both lists with a new meta is an update.</summary>
    internal PresenceChangedEventArgs ApplyDiff(IReadOnlyList<Member> joins, IReadOnlyList<Member> leaves)
    {
        lock (_lock)
        {
            // Users are compared before and after the whole diff, so an UPDATE (leave + join of one conn) never
            // flickers its user offline and online.
            HashSet<string>? touched = null;
            Dictionary<string, bool>? wasOnline = null;
            Dictionary<string, Member>? removed = null;
            foreach (Member leave in leaves)
            {
                Remember(leave.User, ref touched, ref wasOnline);
                if (_byConn.TryGetValue(leave.Conn, out Member? old))
                {
                    Remove(old);
                    (removed ??= new Dictionary<string, Member>(StringComparer.Ordinal))[old.Conn] = old;
                    _total--;
                }
                else if (!_complete)
                {
                    (removed ??= new Dictionary<string, Member>(StringComparer.Ordinal))[leave.Conn] = leave;
                    _total--;
                }
            }
            List<Member>? joined = null, updated = null;
            foreach (Member join in joins)
            {
                Remember(join.User, ref touched, ref wasOnline);
                if (_byConn.TryGetValue(join.Conn, out Member? existing))
                {
                    Remove(existing);
                    _total--;
                }
                Add(join);
                _total++;
                if (removed is not null && removed.Remove(join.Conn)) (updated ??= new List<Member>()).Add(join);
                else (joined ??= new List<Member>()).Add(join);
            }
            if (_total < _byConn.Count) _total = _byConn.Count;
            if (_complete) _total = _byConn.Count;
            List<Member>? left = removed is null || removed.Count == 0 ? null : removed.Values.ToList();
            List<string>? online = null, offline = null;
            if (touched is not null)
            {
                foreach (string user in touched)
                {
                    bool before = wasOnline![user];
                    bool after = _connectionsByUser.ContainsKey(user);
                    if (!before && after) (online ??= new List<string>()).Add(user);
                    else if (before && !after) (offline ??= new List<string>()).Add(user);
                }
            }
            return new PresenceChangedEventArgs(Room, false, joined, left, updated, online, offline, _total);
        }
    }

    private void Remember(string user, ref HashSet<string>? touched, ref Dictionary<string, bool>? wasOnline)
    {
        touched ??= new HashSet<string>(StringComparer.Ordinal);
        wasOnline ??= new Dictionary<string, bool>(StringComparer.Ordinal);
        if (touched.Add(user)) wasOnline[user] = _connectionsByUser.ContainsKey(user);
    }

    private void Add(Member member)
    {
        if (_byConn.TryGetValue(member.Conn, out Member? old)) Remove(old);
        _byConn[member.Conn] = member;
        _connectionsByUser[member.User] = _connectionsByUser.TryGetValue(member.User, out int n) ? n + 1 : 1;
    }

    private void Remove(Member member)
    {
        _byConn.Remove(member.Conn);
        if (!_connectionsByUser.TryGetValue(member.User, out int n)) return;
        if (n <= 1) _connectionsByUser.Remove(member.User);
        else _connectionsByUser[member.User] = n - 1;
    }

    private static bool SameMeta(byte[]? a, byte[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
