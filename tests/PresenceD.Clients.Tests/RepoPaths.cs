namespace PresenceD.Clients.Tests;

/// <summary>Where things are in the repository the tests run from.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration these tests were built in (Release under ./test.sh).</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Release";

    public static string UnityPackage => Path.Combine(Root, "src", "clients", "unity", "com.presenced.client");

    public static string CClient => Path.Combine(Root, "src", "clients", "c");

    public static string Cli
    {
        get
        {
            string dir = Path.Combine(Root, "tools", "PresenceD.Cli", "bin", Configuration, "net10.0");
            string exe = Path.Combine(dir, "presence-cli");
            return File.Exists(exe) ? exe : Path.Combine(dir, "presence-cli.dll");
        }
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PresenceD.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("PresenceD.sln not found above " + AppContext.BaseDirectory);
    }
}
