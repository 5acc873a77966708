using System.Diagnostics.Metrics;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Hosting;

/// <summary>
/// Gauges read at scrape time from the live daemon and process (never on a hot path): queued outbound
/// bytes over all connections, resident memory, managed heap and open descriptors.
/// </summary>
internal static class RuntimeGauges
{
    public static void Register(PresenceServer server)
    {
        Meter meter = server.Metrics.Meter;
        meter.CreateObservableGauge("presenced_send_queue_bytes", () => SendQueueBytes(server), "By", "Outbound bytes queued and not yet written, over all connections");
        meter.CreateObservableGauge("process_resident_memory_bytes", () => Environment.WorkingSet, "By", "Resident memory of the daemon");
        meter.CreateObservableGauge("dotnet_gc_heap_bytes", () => GC.GetTotalMemory(false), "By", "Managed heap in use");
        meter.CreateObservableGauge("process_open_fds", OpenDescriptors, description: "Open file descriptors (sockets included)");
    }

    private static long SendQueueBytes(PresenceServer server)
    {
        long total = 0;
        foreach (Connection connection in server.Connections.Registry.All) total += connection.Outbound.PendingBytes;
        return total;
    }

    private static long OpenDescriptors()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }
}
