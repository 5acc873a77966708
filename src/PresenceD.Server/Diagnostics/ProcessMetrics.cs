using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The process_* series every Prometheus exporter publishes (named as client_golang's process collector
/// names them, so stock dashboards and alerts work unchanged): CPU time, resident memory, open and maximum
/// file descriptors, start time. Read from the kernel at scrape time only, never on a hot path.
/// </summary>
internal static class ProcessMetrics
{
    private const string LimitsFile = "/proc/self/limits";
    private const string DescriptorDirectory = "/proc/self/fd";

    public static void Register(Meter meter)
    {
        // The start time cannot change: read once, so a scrape does not open /proc/self/stat again.
        double started = StartTimeSeconds();
        meter.CreateObservableCounter("process_cpu_seconds_total", () => Environment.CpuUsage.TotalTime.TotalSeconds, "s", "User and system CPU time spent by the daemon, in seconds");
        meter.CreateObservableGauge("process_resident_memory_bytes", () => Environment.WorkingSet, "By", "Resident memory of the daemon");
        meter.CreateObservableGauge("process_open_fds", OpenDescriptors, description: "Open file descriptors (sockets included)");
        meter.CreateObservableGauge("process_max_fds", MaxDescriptors, description: "The soft limit on open file descriptors (RLIMIT_NOFILE, LimitNOFILE= under systemd)");
        meter.CreateObservableGauge("process_start_time_seconds", () => started, "s", "When the daemon started, in seconds since the Unix epoch");
    }

    private static double StartTimeSeconds()
    {
        using Process self = Process.GetCurrentProcess();
        return (self.StartTime.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds;
    }

    private static long OpenDescriptors() => Directory.EnumerateFileSystemEntries(DescriptorDirectory).LongCount();

    /// <summary>The "Max open files" soft limit; "unlimited" is exported as +Inf, as client_golang does.</summary>
    internal static double MaxDescriptors() => ParseMaxOpenFiles(File.ReadLines(LimitsFile));

    internal static double ParseMaxOpenFiles(IEnumerable<string> limits)
    {
        const string Row = "Max open files";
        foreach (string line in limits)
        {
            if (!line.StartsWith(Row, StringComparison.Ordinal)) continue;
            string soft = line[Row.Length..].TrimStart().Split(' ', 2)[0];
            return soft == "unlimited" ? double.PositiveInfinity : double.Parse(soft, System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new FormatException($"{LimitsFile} has no '{Row}' row");
    }
}
