using System.Diagnostics;
using PresenceD.Load.Reporting;

namespace PresenceD.Load.Measurement;

/// <summary>Wall time, this process's CPU and (with --server-pid) the server's CPU over a measured phase.</summary>
internal sealed class Meter
{
    private readonly ProcessSampler? _server;
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly TimeSpan _clientCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly double _serverCpu0;

    public Meter(int serverPid)
    {
        if (serverPid <= 0) return;
        _server = new ProcessSampler(serverPid);
        _serverCpu0 = _server.CpuSeconds();
    }

    public double ElapsedSeconds => _wall.Elapsed.TotalSeconds;

    /// <summary>Fills the result's time, CPU, RSS, counts and latency percentiles.</summary>
    public void Finish(LoadResult result, LoadStats stats)
    {
        result.Seconds = _wall.Elapsed.TotalSeconds;
        result.ClientCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - _clientCpu0).TotalSeconds;
        if (_server is not null)
        {
            result.ServerCpuSeconds = _server.CpuSeconds() - _serverCpu0;
            result.ServerRssMb = _server.RssMegabytes();
        }
        result.Sent = stats.Sent;
        result.Delivered = stats.Delivered;
        LatencyHistogram latency = stats.MergedLatency();
        result.LatencySamples = latency.Count;
        result.P50Us = latency.Quantile(0.50) / 1000;
        result.P99Us = latency.Quantile(0.99) / 1000;
        result.P999Us = latency.Quantile(0.999) / 1000;
        result.MaxUs = latency.Count == 0 ? double.NaN : latency.Max / 1000.0;
        result.Errors = stats.Errors;
    }
}
