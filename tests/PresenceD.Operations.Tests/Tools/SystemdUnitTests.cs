using PresenceD.Operations.Tests.Support;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Tools;

public sealed class SystemdUnitTests
{
    private static readonly string UnitPath = Path.Combine(AppContext.BaseDirectory, "tools", "presenced.service");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [RequiresProgramFact("systemd-analyze")]
    public async Task Systemd_analyze_verify_accepts_the_unit()
    {
        // verify insists that ExecStart's binary exists: point it at the presenced built next to the tests.
        string directory = Directory.CreateTempSubdirectory("presenced-unit-").FullName;
        try
        {
            string unit = (await File.ReadAllTextAsync(UnitPath)).Replace("/usr/local/bin/presenced", DaemonProcess.BinaryPath, StringComparison.Ordinal);
            Assert.Contains(DaemonProcess.BinaryPath + " ", unit);
            string path = Path.Combine(directory, "presenced.service");
            await File.WriteAllTextAsync(path, unit);

            (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(ChildProcess.Find("systemd-analyze")!, ["verify", path], Wait);

            Assert.True(exit == 0, $"systemd-analyze verify exited {exit}: {stdout}{stderr}");
            string complaints = string.Join("\n", (stdout + stderr).Split('\n').Where(l => l.Contains("presenced.service", StringComparison.Ordinal)));
            Assert.True(complaints.Length == 0, "systemd-analyze verify complained:\n" + complaints);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_unit_is_a_hardened_notify_service_with_watchdog_reload_and_room_for_100k_connections()
    {
        Dictionary<string, List<string>> service = Section(File.ReadAllLines(UnitPath), "Service");

        Assert.Equal("notify", Single(service, "Type"));
        Assert.True(TimeSpan.FromSeconds(int.Parse(Single(service, "WatchdogSec").TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture)) > TimeSpan.Zero);
        Assert.True(long.Parse(Single(service, "LimitNOFILE"), System.Globalization.CultureInfo.InvariantCulture) >= 100_000 + 1000);
        Assert.Equal("/bin/kill -HUP $MAINPID", Single(service, "ExecReload"));
        Assert.Equal("yes", Single(service, "DynamicUser"));
        // The .deb's system user when it exists, else a dynamic one of that name.
        Assert.Equal("presenced", Single(service, "User"));
        Assert.Equal("presenced", Single(service, "Group"));
        Assert.Equal("yes", Single(service, "NoNewPrivileges"));
        Assert.Equal("strict", Single(service, "ProtectSystem"));
        Assert.Equal("yes", Single(service, "PrivateTmp"));
        Assert.Equal("", Single(service, "CapabilityBoundingSet"));
        Assert.Equal("SIGTERM", Single(service, "KillSignal"));
        Assert.True(int.Parse(Single(service, "TimeoutStopSec").TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture) > 10, "TimeoutStopSec must exceed the default drain_timeout (10s)");
    }

    private static Dictionary<string, List<string>> Section(string[] lines, string name)
    {
        var entries = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string? current = null;
        foreach (string raw in lines)
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line[0] == '[')
            {
                current = line.Trim('[', ']');
                continue;
            }
            if (current != name) continue;
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            string key = line[..equals];
            if (!entries.TryGetValue(key, out List<string>? values)) entries[key] = values = [];
            values.Add(line[(equals + 1)..]);
        }
        return entries;
    }

    private static string Single(Dictionary<string, List<string>> section, string key) =>
        section.TryGetValue(key, out List<string>? values) ? Assert.Single(values) : throw new Xunit.Sdk.XunitException($"[Service] has no {key}=");
}
