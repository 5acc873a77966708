using PresenceD.Install.Tests.Support;
using PresenceD.Tests.Shared;

namespace PresenceD.Install.Tests.Tools;

/// <summary>
/// The .deb from tools/build-deb.sh, installed into this machine as an operator would: dpkg -i gives runnable
/// programs, a valid unit (enabled, not started), the config as a conffile and a system user; dpkg -r removes the
/// programs and keeps the config and the user, as Debian does; dpkg --purge leaves nothing behind.
/// </summary>
[Collection(PublishedProgramsCollection.Name)]
public sealed class DebianPackageTests(PublishedPrograms published)
{
    private const string Unit = "/lib/systemd/system/presenced.service";
    private const string Config = "/etc/presenced/presenced.conf";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [RequiresRootAndDpkgFact]
    public async Task Install_upgrade_remove_and_purge_leave_the_machine_as_it_was()
    {
        string output = Directory.CreateTempSubdirectory("presenced-deb-").FullName;
        try
        {
            string deb = await BuildAsync(output);
            string[] packaged = await PackagedPathsAsync(deb);
            Assert.Contains("/usr/bin/presenced", packaged);
            Assert.Contains("/usr/bin/presence-cli", packaged);
            Assert.Contains("/usr/bin/presence-load", packaged);
            Assert.Contains(Unit, packaged);
            Assert.Contains(Config, packaged);
            Assert.Equal(Config, (await RunAsync("dpkg-deb", "--info", deb, "conffiles")).Trim());

            await RunAsync("dpkg", "-i", deb);
            try
            {
                await CheckInstalledAsync();

                // An upgrade (here: the same package again) keeps the operator's edit of the conffile and the user.
                string edited = System.Text.RegularExpressions.Regex.Replace(await File.ReadAllTextAsync(Config), "(?m)^max_connections 100000 ", "max_connections 5000   ");
                Assert.Contains("max_connections 5000 ", edited);
                await File.WriteAllTextAsync(Config, edited);
                await RunAsync("dpkg", "-i", deb);
                Assert.Equal(edited, await File.ReadAllTextAsync(Config));
                Assert.Contains("max_connections 5000", await RunAsync("/usr/bin/presenced", Config, "--check-config"));

                await RunAsync("dpkg", "-r", "presenced");
                Assert.All(packaged.Where(p => p.StartsWith("/usr/", StringComparison.Ordinal) && !Directory.Exists(p)), p => Assert.False(File.Exists(p), p + " left after dpkg -r"));
                Assert.False(File.Exists(Unit));
                Assert.True(File.Exists(Config), "dpkg -r keeps the conffile");
                Assert.True(await UserExistsAsync(), "dpkg -r keeps the user");
            }
            finally
            {
                await RunAsync("dpkg", "--purge", "presenced");
            }

            Assert.False(await UserExistsAsync(), "the user presenced is left after dpkg --purge");
            Assert.False(await GroupExistsAsync(), "the group presenced is left after dpkg --purge");
            Assert.False(Directory.Exists("/etc/presenced"), "/etc/presenced is left after dpkg --purge");
            Assert.All(packaged, p => Assert.False(File.Exists(p), p + " left after dpkg --purge"));
            string[] leftovers = ["/etc/systemd/system", "/var/lib/systemd/deb-systemd-helper-enabled", "/var/lib/systemd/deb-systemd-helper-masked"];
            Assert.Empty(leftovers.Where(Directory.Exists)
                .SelectMany(d => Directory.EnumerateFileSystemEntries(d, "*presenced*", SearchOption.AllDirectories)));
            Assert.False(File.Exists("/var/lib/dpkg/info/presenced.list"));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private async Task<string> BuildAsync(string output)
    {
        // No compression: the test checks the package's contents, not its size, and xz of 220 MB takes a minute.
        string printed = await RunAsync(Repository.PathOf("tools/build-deb.sh"),
            "--output", output, "--publish-dir", published.Directory, "--reuse", "--compression", "none");
        string deb = printed.TrimEnd('\n').Split('\n')[^1];
        Assert.Matches(@"/presenced_\d+\.\d+\.\d+(\+git[0-9a-f]{12})?_[a-z0-9]+\.deb$", deb);
        Assert.True(File.Exists(deb), deb);
        return deb;
    }

    private static async Task CheckInstalledAsync()
    {
        Assert.StartsWith("presenced ", await RunAsync("/usr/bin/presenced", "--version"));
        // The padding before the source comment follows the longest key; only the value and its source matter.
        Assert.Matches($@"(?m)^port 7400 +# {System.Text.RegularExpressions.Regex.Escape(Config)}:\d+$", await RunAsync("/usr/bin/presenced", Config, "--check-config"));
        await RunAsync("/usr/bin/presence-cli", "--version");
        await RunAsync("/usr/bin/presence-load", "--version");

        Assert.True(await UserExistsAsync(), "postinst did not create the user presenced");
        string passwd = await RunAsync("getent", "passwd", "presenced");
        Assert.EndsWith(":/nonexistent:/usr/sbin/nologin\n", passwd);
        Assert.True(int.Parse(passwd.Split(':')[2], System.Globalization.CultureInfo.InvariantCulture) < 1000, "not a system user: " + passwd);

        // Enabled for the next boot, not started (no daemon runs after the install).
        FileSystemInfo wants = new FileInfo("/etc/systemd/system/multi-user.target.wants/presenced.service");
        Assert.Equal(Unit, wants.LinkTarget);
        Assert.DoesNotContain("/usr/bin/presenced", await RunAsync("ps", "-eo", "args"));

        string unit = await File.ReadAllTextAsync(Unit);
        Assert.Contains("ExecStart=/usr/bin/presenced /etc/presenced/presenced.conf\n", unit);
        Assert.DoesNotContain("/usr/local/", unit);
        if (ChildProcess.Find("systemd-analyze") is not null)
        {
            (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(ChildProcess.Find("systemd-analyze")!, ["verify", Unit], Wait);
            Assert.True(exit == 0, $"systemd-analyze verify exited {exit}: {stdout}{stderr}");
            string complaints = string.Join("\n", (stdout + stderr).Split('\n').Where(l => l.Contains("presenced.service", StringComparison.Ordinal)));
            Assert.True(complaints.Length == 0, "systemd-analyze verify complained:\n" + complaints);
        }
    }

    /// <summary>Every path the package installs, from its data archive's listing.</summary>
    private static async Task<string[]> PackagedPathsAsync(string deb) =>
        (await RunAsync("dpkg-deb", "--contents", deb))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line[(line.IndexOf("./", StringComparison.Ordinal) + 1)..].Split(" -> ")[0].TrimEnd('/'))
            .Where(path => path.Length > 0)
            .ToArray();

    private static async Task<bool> UserExistsAsync() => (await ChildProcess.RunAsync(ChildProcess.Find("getent")!, ["passwd", "presenced"], Wait)).ExitCode == 0;

    private static async Task<bool> GroupExistsAsync() => (await ChildProcess.RunAsync(ChildProcess.Find("getent")!, ["group", "presenced"], Wait)).ExitCode == 0;

    /// <summary>Runs a program that must succeed and returns its stdout.</summary>
    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        string file = program.StartsWith('/') ? program : ChildProcess.Find(program) ?? throw new InvalidOperationException(program + " is not installed");
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(file, arguments, Wait);
        Assert.True(exit == 0, $"{program} {string.Join(' ', arguments)} exited {exit}:\n{stdout}{stderr}");
        return stdout;
    }
}
