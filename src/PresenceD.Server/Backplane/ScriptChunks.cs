using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>One script call of a pipelined round: script, keys, arguments.</summary>
internal readonly record struct ScriptCall(string Script, RedisKey[] Keys, RedisValue[] Args);

/// <summary>
/// Builds the bounded script calls of the online index and of a room's refresh: users grouped by slot on a Redis
/// Cluster (a script's keys must share one), all together elsewhere, and every call at most <see cref="Size"/> entries,
/// so no single script holds a (single-threaded) Redis for long however many connections a node has, and the calls of
/// one round are pipelined (one round trip per shard).
/// </summary>
internal static class ScriptChunks
{
    /// <summary>
    /// Most entries per script call: about a millisecond of Redis time per call. Not a setting: it bounds a script's run
    /// time, which depends on Redis, not on the deployment, and any value from 100 to a few thousand behaves the same.
    /// </summary>
    public const int Size = 500;

    /// <summary>Online refresh of (conn, user) sessions: KEYS clock + one online set per conn, ARGV ttl, key ttl, gapmax + the conns.</summary>
    public static List<ScriptCall> OnlineRefresh(RedisBackplane backplane, IEnumerable<KeyValuePair<string, string>> sessions)
    {
        var calls = new List<ScriptCall>();
        foreach (List<(string Key, string Conn)> chunk in Chunks(backplane.Deployment, sessions.Select(s => (Key: RedisDeployment.OnlineKey(s.Value), Conn: s.Key))))
        {
            var keys = new RedisKey[chunk.Count + 1];
            var args = new RedisValue[chunk.Count + 3];
            keys[0] = backplane.Deployment.ClockFor(chunk[0].Key);
            (args[0], args[1], args[2]) = (backplane.EntryTtlMs, backplane.KeyTtlMs, backplane.GapMaxMs);
            for (int i = 0; i < chunk.Count; i++)
            {
                keys[i + 1] = chunk[i].Key;
                args[i + 3] = chunk[i].Conn;
            }
            calls.Add(new ScriptCall(backplane.Scripts.OnlineRefresh, keys, args));
        }
        return calls;
    }

    /// <summary>ONLINE's questions: one call per chunk of users in one slot, and the users each call asks about, in KEYS order.</summary>
    public static List<(ScriptCall Call, List<string> Users)> OnlineQuery(RedisBackplane backplane, IEnumerable<string> users)
    {
        var calls = new List<(ScriptCall, List<string>)>();
        foreach (List<(string Key, string User)> chunk in Chunks(backplane.Deployment, users.Distinct(StringComparer.Ordinal).Select(u => (Key: RedisDeployment.OnlineKey(u), User: u))))
        {
            var keys = new RedisKey[chunk.Count + 1];
            keys[0] = backplane.Deployment.ClockFor(chunk[0].Key);
            for (int i = 0; i < chunk.Count; i++) keys[i + 1] = chunk[i].Key;
            calls.Add((new ScriptCall(backplane.Scripts.OnlineQuery, keys, [backplane.GapMaxMs]), chunk.Select(c => c.User).ToList()));
        }
        return calls;
    }

    /// <summary>A room's refresh in chunks of its members: KEYS the room's, ARGV ttl, key ttl, gapmax + the conns.</summary>
    public static List<ScriptCall> Refresh(RedisBackplane backplane, RoomKeys keys, List<string> conns)
    {
        var calls = new List<ScriptCall>();
        // A room with no visible local member still gets one call: it extends the room keys' life like before.
        for (int start = 0; start == 0 || start < conns.Count; start += Size)
        {
            int count = Math.Min(Size, conns.Count - start);
            var args = new RedisValue[count + 3];
            (args[0], args[1], args[2]) = (backplane.EntryTtlMs, backplane.KeyTtlMs, backplane.GapMaxMs);
            for (int i = 0; i < count; i++) args[i + 3] = conns[start + i];
            calls.Add(new ScriptCall(backplane.Scripts.Refresh, keys.Members, args));
        }
        return calls;
    }

    // Groups by slot on a cluster (one group elsewhere), then cuts each group into chunks of at most Size.
    private static IEnumerable<List<(string Key, T Item)>> Chunks<T>(RedisDeployment deployment, IEnumerable<(string Key, T Item)> entries)
    {
        var groups = new Dictionary<int, List<(string, T)>>();
        foreach ((string key, T item) in entries)
        {
            int group = deployment.IsCluster ? HashSlots.SlotOf(key) : 0;
            if (!groups.TryGetValue(group, out List<(string, T)>? list)) groups[group] = list = [];
            list.Add((key, item));
        }
        foreach (List<(string, T)> group in groups.Values)
        {
            for (int start = 0; start < group.Count; start += Size) yield return group.GetRange(start, Math.Min(Size, group.Count - start));
        }
    }
}
