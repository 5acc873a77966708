using System.Diagnostics.Metrics;
using PresenceD.Server.Buffers;
using PresenceD.Server.Connections;
using PresenceD.Server.Diagnostics;

namespace PresenceD.Server.Hosting;

/// <summary>
/// Gauges read at scrape time from the live daemon and process (never on a hot path): queued outbound
/// bytes over all connections, pooled buffers and the managed heap; with them the process_* series and
/// presenced_build_info (<see cref="ProcessMetrics"/>, <see cref="BuildInfo"/>).
/// </summary>
internal static class RuntimeGauges
{
    public static void Register(PresenceServer server)
    {
        Meter meter = server.Metrics.Meter;
        BufferPools buffers = server.Buffers;
        meter.CreateObservableGauge("presenced_send_queue_bytes", () => SendQueueBytes(server), "By", "Outbound bytes queued and not yet written, over all connections");
        meter.CreateObservableGauge("presenced_buffer_pool_bytes", () => PoolBytes(buffers), "By", "Bytes kept for reuse by the send and receive buffer pools (together at most buffer_pool_max)");
        meter.CreateObservableCounter("presenced_buffer_pool_trims_total", () => buffers.Trims, description: "Idle trims that released pooled buffers");
        meter.CreateObservableCounter("presenced_buffer_pool_released_bytes_total", () => ReleasedBytes(buffers), "By",
            "Pooled bytes released to the GC: idle = unused for a buffer_pool_trim_interval, full = past buffer_pool_max");
        meter.CreateObservableCounter("presenced_buffer_pool_collections_total", () => buffers.Collections,
            description: "Full decommitting GCs run once a burst is over, so the buffers it released leave the process");
        meter.CreateObservableGauge("dotnet_gc_heap_bytes", () => GC.GetTotalMemory(false), "By", "Managed heap in use");
        ProcessMetrics.Register(meter);
        BuildInfo.Register(meter);
        WheelStallGauge.Register(meter, server.Wheel);
    }

    private static long SendQueueBytes(PresenceServer server)
    {
        long total = 0;
        foreach (Connection connection in server.Connections.Registry.All) total += connection.Outbound.PendingBytes;
        return total;
    }

    private static Measurement<long>[] PoolBytes(BufferPools buffers) =>
    [
        new(buffers.Send.RetainedBytes, new KeyValuePair<string, object?>("pool", "send")),
        new(buffers.Receive.RetainedBytes, new KeyValuePair<string, object?>("pool", "receive")),
    ];

    private static Measurement<long>[] ReleasedBytes(BufferPools buffers) =>
    [
        new(buffers.TrimmedBytes, new KeyValuePair<string, object?>("reason", "idle")),
        new(buffers.Budget.OverflowBytes, new KeyValuePair<string, object?>("reason", "full")),
    ];
}
