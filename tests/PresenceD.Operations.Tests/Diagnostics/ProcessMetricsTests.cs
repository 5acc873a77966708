using System.Globalization;
using System.Text.RegularExpressions;
using PresenceD.Operations.Tests.Support;
using PresenceD.Server.Diagnostics;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Diagnostics;

/// <summary>
/// The process_* series and presenced_build_info, as a scraper sees them on a real daemon's /metrics: the names
/// and types client_golang's process collector uses, and values that agree with what the kernel says of the process.
/// </summary>
public sealed partial class ProcessMetricsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_daemon_exports_the_process_series_with_their_types_and_values_the_kernel_agrees_with()
    {
        int adminPort = Ports.Free();
        DateTime launched = DateTime.UtcNow;
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(DaemonSetup.WithConfig(Ports.Free(), $"admin_port {adminPort}"));
        using var http = new HttpClient();

        string text = await http.GetStringAsync($"http://127.0.0.1:{adminPort}/metrics");
        DateTime scraped = DateTime.UtcNow;
        Dictionary<string, double> samples = PrometheusText.Parse(text);
        Dictionary<string, string> types = PrometheusText.Types(text);

        Assert.Equal("counter", types["process_cpu_seconds_total"]);
        foreach (string gauge in new[] { "process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds", "presenced_build_info" })
        {
            Assert.Equal("gauge", types[gauge]);
        }
        // It has started the runtime, compiled its code and run the warm-up session: that took CPU time.
        Assert.True(PrometheusText.Value(samples, "process_cpu_seconds_total") > 0);
        double resident = PrometheusText.Value(samples, "process_resident_memory_bytes");
        Assert.InRange(resident, 8 * 1024 * 1024, 2L * 1024 * 1024 * 1024);
        double maxFds = PrometheusText.Value(samples, "process_max_fds");
        Assert.Equal(ProcessMetrics.ParseMaxOpenFiles(await File.ReadAllLinesAsync($"/proc/{daemon.Pid}/limits")), maxFds);
        double openFds = PrometheusText.Value(samples, "process_open_fds");
        // stdin/out/err, the two listeners and this scrape's socket at least.
        Assert.InRange(openFds, 6, maxFds);
        DateTime started = DateTime.UnixEpoch.AddSeconds(PrometheusText.Value(samples, "process_start_time_seconds"));
        // Wall-clock bounds, not a duration: the process began after the test launched it and before it was scraped
        // (a second of slack each side for the kernel's start time resolution and boot-time rounding).
        Assert.InRange(started, launched.AddSeconds(-1), scraped.AddSeconds(1));

        string info = Assert.Single(samples.Keys, k => k.StartsWith("presenced_build_info{", StringComparison.Ordinal));
        Assert.Equal(1, samples[info]);
        Match labels = BuildInfoLabels().Match(info);
        Assert.True(labels.Success, info);
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(DaemonProcess.BinaryPath, ["--version"], Wait);
        Assert.True(exit == 0, stderr);
        Assert.Equal($"presenced {labels.Groups["version"].Value} (commit {labels.Groups["commit"].Value})", stdout.TrimEnd('\n'));
    }

    [Fact]
    public async Task Cpu_time_counts_up_as_the_daemon_works()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics();
        double before = PrometheusText.Value(PrometheusText.Parse(daemon.Exporter.Scrape()), "process_cpu_seconds_total");
        // Burn CPU in this process (the in-process daemon's process) until the kernel's account moves.
        await Eventually.TrueAsync(() =>
        {
            long spin = 0;
            for (int i = 0; i < 20_000_000; i++) spin += i ^ (spin >> 3);
            GC.KeepAlive(spin);
            return PrometheusText.Value(PrometheusText.Parse(daemon.Exporter.Scrape()), "process_cpu_seconds_total") > before;
        }, "process_cpu_seconds_total to grow", Wait);
    }

    [Fact]
    public void The_build_commit_comes_from_the_informational_version_and_is_unknown_without_one()
    {
        Assert.Equal(("1.2.3", "0123abc"), BuildInfo.Parse("1.2.3+0123abc"));
        Assert.Equal(("1.2.3", BuildInfo.UnknownCommit), BuildInfo.Parse("1.2.3"));
        Assert.Equal(("1.2.3", BuildInfo.UnknownCommit), BuildInfo.Parse("1.2.3+"));
        Assert.Equal(("0.0.0", BuildInfo.UnknownCommit), BuildInfo.Parse(null));
        // This build was made from a git checkout: the SDK stamped the full commit id.
        Assert.Matches("^[0-9a-f]{40}$", BuildInfo.Commit);
    }

    [Fact]
    public void Max_open_files_is_the_soft_limit_and_unlimited_is_infinite()
    {
        string[] limits =
        [
            "Limit                     Soft Limit           Hard Limit           Units     ",
            "Max processes             63452                63452                processes ",
            "Max open files            20000                1048576              files     ",
        ];
        Assert.Equal(20000, ProcessMetrics.ParseMaxOpenFiles(limits));
        Assert.Equal(double.PositiveInfinity, ProcessMetrics.ParseMaxOpenFiles(["Max open files            unlimited            unlimited            files"]));
        Assert.Throws<FormatException>(() => ProcessMetrics.ParseMaxOpenFiles(["Max processes 1 1 processes"]));
    }

    [GeneratedRegex("""^presenced_build_info\{version="(?<version>[^"]+)",commit="(?<commit>[0-9a-f]{40}|unknown)"\}$""")]
    private static partial Regex BuildInfoLabels();
}
