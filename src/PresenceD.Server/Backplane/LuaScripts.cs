using System.Reflection;

namespace PresenceD.Server.Backplane;

/// <summary>
/// The Lua scripts (Scripts/*.lua, embedded), each with the cluster-clock prelude in front and the publish command
/// of the deployment: SPUBLISH on a Redis Cluster (a room's channel is sharded there, in the slot of its keys), PUBLISH
/// otherwise.
/// </summary>
internal sealed class LuaScripts
{
    public LuaScripts(bool sharded)
    {
        string prelude = $"local PD_PUBLISH = '{(sharded ? "SPUBLISH" : "PUBLISH")}'\n" + Read("clock") + "\n";
        Upsert = prelude + Read("upsert");
        Leave = prelude + Read("leave");
        Refresh = prelude + Read("refresh");
        Sweep = prelude + Read("sweep");
        Snapshot = prelude + Read("snapshot");
        OnlineRefresh = prelude + Read("online_refresh");
        OnlineQuery = prelude + Read("online_query");
        Offline = prelude + Read("offline");
        HistoryAppend = prelude + Read("history_append");
        HistoryRead = prelude + Read("history_read");
    }

    public string Upsert { get; }
    public string Leave { get; }
    public string Refresh { get; }
    public string Sweep { get; }
    public string Snapshot { get; }
    public string OnlineRefresh { get; }
    public string OnlineQuery { get; }
    public string Offline { get; }
    public string HistoryAppend { get; }
    public string HistoryRead { get; }

    private static string Read(string name)
    {
        Assembly assembly = typeof(LuaScripts).Assembly;
        using Stream stream = assembly.GetManifestResourceStream("PresenceD.Server.Backplane.Scripts." + name + ".lua")
            ?? throw new InvalidOperationException($"script {name}.lua is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
