using PresenceD.Tests.Shared;

namespace PresenceD.Install.Tests.Support;

/// <summary>
/// The three programs published once per test run by tools/install.sh --publish-only into a temporary
/// directory (a self-contained publish takes a minute or more); every test installs or packages those binaries
/// with --reuse. The directory is deleted when the run ends.
/// </summary>
public sealed class PublishedPrograms : IAsyncLifetime
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(7);

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("presenced-publish-").FullName;

    public async Task InitializeAsync()
    {
        // No MSBuild node and no compiler server may outlive the publish: started by it, they inherit its stdout,
        // and reading that to its end would wait until they exit (minutes), besides leaving processes behind.
        // MSBuild reads environment variables as properties.
        Environment.SetEnvironmentVariable("MSBUILDDISABLENODEREUSE", "1");
        Environment.SetEnvironmentVariable("UseSharedCompilation", "false");
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(
            Repository.PathOf("tools/install.sh"), ["--publish-only", "--publish-dir", Directory], PublishTimeout);
        if (exit != 0) throw new InvalidOperationException($"tools/install.sh --publish-only exited {exit}:\n{stdout}{stderr}");
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>The tests that share one publish, run one at a time (they also share dpkg's database).</summary>
[CollectionDefinition(Name)]
public sealed class PublishedProgramsCollection : ICollectionFixture<PublishedPrograms>
{
    public const string Name = "published programs";
}
