using System.Text.RegularExpressions;
using PresenceD.Install.Tests.Support;
using PresenceD.Tests.Shared;

namespace PresenceD.Install.Tests.Tools;

/// <summary>tools/install.sh puts the three self-contained programs into a prefix, where they run with no SDK.</summary>
[Collection(PublishedProgramsCollection.Name)]
public sealed class InstallScriptTests(PublishedPrograms published)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Install_puts_runnable_binaries_and_the_docs_into_the_prefix()
    {
        string prefix = Directory.CreateTempSubdirectory("presenced-prefix-").FullName;
        try
        {
            (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(Repository.PathOf("tools/install.sh"),
                ["--prefix", prefix, "--publish-dir", published.Directory, "--reuse"], Wait);
            Assert.True(exit == 0, $"install.sh exited {exit}: {stdout}{stderr}");

            string presenced = Path.Combine(prefix, "bin", "presenced");
            (exit, stdout, stderr) = await RunWithoutDotnetAsync(presenced, "--version");
            Assert.True(exit == 0, stderr);
            Assert.Matches(new Regex(@"^presenced \S+ \(commit ([0-9a-f]{40}|unknown)\)\n$"), stdout);
            (exit, stdout, stderr) = await RunWithoutDotnetAsync(presenced, Repository.PathOf("presenced.conf"), "--check-config");
            Assert.True(exit == 0, stderr);
            Assert.Contains("port 7400", stdout);
            foreach (string tool in new[] { "presence-cli", "presence-load" })
            {
                (exit, stdout, stderr) = await RunWithoutDotnetAsync(Path.Combine(prefix, "bin", tool), "--version");
                Assert.True(exit == 0, $"{tool} --version exited {exit}: {stderr}");
                Assert.Matches(new Regex(@"^\d+\.\d+\.\d+"), stdout);
            }
            Assert.True(File.Exists(Path.Combine(prefix, "share", "doc", "presenced", "operations.md")));
        }
        finally
        {
            Directory.Delete(prefix, recursive: true);
        }
    }

    [Fact]
    public async Task A_relative_prefix_and_an_unknown_option_are_usage_errors_that_install_nothing()
    {
        (int exit, _, string stderr) = await ChildProcess.RunAsync(Repository.PathOf("tools/install.sh"), ["--prefix", "relative/dir", "--reuse"], Wait);
        Assert.Equal(1, exit);
        Assert.Contains("--prefix must be an absolute path, not 'relative/dir'", stderr);
        Assert.False(Directory.Exists("relative"));

        (exit, _, stderr) = await ChildProcess.RunAsync(Repository.PathOf("tools/install.sh"), ["--prefx", "/tmp"], Wait);
        Assert.Equal(1, exit);
        Assert.Contains("unknown argument '--prefx'", stderr);
    }

    /// <summary>A self-contained binary must not need the SDK: run it with a PATH that has no dotnet on it.</summary>
    private static Task<(int ExitCode, string StdOut, string StdErr)> RunWithoutDotnetAsync(string program, params string[] arguments) =>
        ChildProcess.RunAsync("/usr/bin/env", ["-u", "DOTNET_ROOT", "PATH=/usr/bin:/bin", program, .. arguments], Wait);
}
