using System.Reflection;

namespace PresenceD.Server.Backplane;

/// <summary>The Lua scripts (Scripts/*.lua, embedded), each with the cluster-clock prelude in front.</summary>
internal static class LuaScripts
{
    public static readonly string Upsert = Load("upsert");
    public static readonly string Leave = Load("leave");
    public static readonly string Refresh = Load("refresh");
    public static readonly string Sweep = Load("sweep");
    public static readonly string Snapshot = Load("snapshot");
    public static readonly string OnlineRefresh = Load("online_refresh");
    public static readonly string OnlineQuery = Load("online_query");
    public static readonly string Offline = Load("offline");
    public static readonly string HistoryAppend = Load("history_append");
    public static readonly string HistoryRead = Load("history_read");

    private static string Load(string name)
    {
        Assembly assembly = typeof(LuaScripts).Assembly;
        return Read(assembly, "clock") + "\n" + Read(assembly, name);
    }

    private static string Read(Assembly assembly, string name)
    {
        using Stream stream = assembly.GetManifestResourceStream("PresenceD.Server.Backplane.Scripts." + name + ".lua")
            ?? throw new InvalidOperationException($"script {name}.lua is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
