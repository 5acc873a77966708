namespace PresenceD.Install.Tests.Support;

/// <summary>The checkout these tests were built from: the scripts under test and the files they package.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PresenceD.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"no PresenceD.sln above {AppContext.BaseDirectory}");
    }
}
