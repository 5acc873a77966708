using System.Diagnostics;
using PresenceD.Load.Reporting;

namespace PresenceD.Load.Measurement;

/// <summary>Wall time, this process's CPU and (with --server-pid) the server's CPU over a measured phase, and its intervals.</summary>
internal sealed class Meter
{
    private readonly ProcessSampler? _server;
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly TimeSpan _clientCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly double _serverCpu0;
    private readonly IntervalSampler _intervals;
    private readonly bool _paced;

    /// <summary>Starts measuring now: call after the warm-up's reset. <paramref name="paced"/>: an open-loop run (pacer lag is reported).</summary>
    public Meter(LoadContext context, bool paced)
    {
        _paced = paced;
        _intervals = new IntervalSampler(context.Stats, context.Options.Interval, paced, context.HdrLog, context.OnIntervalRow);
        _intervals.Start();
        int serverPid = context.Options.ServerPid;
        if (serverPid <= 0) return;
        _server = new ProcessSampler(serverPid);
        _serverCpu0 = _server.CpuSeconds();
    }

    private double _sendSeconds = -1;

    public double ElapsedSeconds => _wall.Elapsed.TotalSeconds;

    /// <summary>The last message (or request) went out: the achieved rate is counted up to here.</summary>
    public void SendingDone() => _sendSeconds = _wall.Elapsed.TotalSeconds;

    /// <summary>Fills the result's time, CPU, RSS, counts, percentiles and interval rows.</summary>
    public void Finish(LoadResult result, LoadStats stats)
    {
        result.Seconds = _wall.Elapsed.TotalSeconds;
        result.SendSeconds = _sendSeconds >= 0 ? _sendSeconds : result.Seconds;
        _intervals.Stop();
        result.Intervals = _intervals.Rows;
        result.ClientCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - _clientCpu0).TotalSeconds;
        if (_server is not null)
        {
            result.ServerCpuSeconds = _server.CpuSeconds() - _serverCpu0;
            result.ServerRssMb = _server.RssMegabytes();
        }
        result.Sent = stats.Sent;
        result.Delivered = stats.Delivered;
        result.Latency = LatencySummary.Of(stats.Latency.Snapshot());
        if (_paced) result.PacerLag = LatencySummary.Of(stats.PacerLag.Snapshot());
        result.Loop = _paced ? "open" : "closed";
        result.Errors = stats.Errors;
    }
}
