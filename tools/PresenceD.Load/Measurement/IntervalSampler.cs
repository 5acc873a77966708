using System.Diagnostics;
using PresenceD.Load.Reporting;

namespace PresenceD.Load.Measurement;

/// <summary>
/// Cuts the measured phase into --interval rows: every interval it snapshots the cumulative latency and pacer-lag
/// histograms and the counters, and reports the difference from the previous snapshot (rate and percentiles of that
/// interval alone). Rows go to <see cref="Rows"/>, to a callback (live rows on stdout) and to the --hdr-out log.
/// Without --interval it samples once, at the end, so the log holds the whole phase as one histogram.
/// </summary>
internal sealed class IntervalSampler : IDisposable
{
    private readonly LoadStats _stats;
    private readonly TimeSpan _interval;
    private readonly Action<IntervalRow>? _onRow;
    private readonly HdrLogWriter? _log;
    private readonly bool _paced;
    private readonly LatencyHistogram[] _latency = [new(), new(), new()];
    private readonly LatencyHistogram[] _lag = [new(), new(), new()];
    private readonly List<IntervalRow> _rows = [];
    private readonly CancellationTokenSource _stop = new();
    private long _start;
    private long _previousAt;
    private long _previousSent;
    private long _previousDelivered;
    private Thread? _thread;

    /// <param name="interval">Row length; zero for a single row at the end (not kept in <see cref="Rows"/>).</param>
    /// <param name="paced">Open loop: report the pacer lag too.</param>
    public IntervalSampler(LoadStats stats, TimeSpan interval, bool paced, HdrLogWriter? log, Action<IntervalRow>? onRow)
    {
        _stats = stats;
        _interval = interval;
        _paced = paced;
        _log = log;
        _onRow = onRow;
    }

    public IReadOnlyList<IntervalRow> Rows => _rows;

    /// <summary>Begins the first interval now (call after the warm-up reset).</summary>
    public void Start()
    {
        _start = _previousAt = Stopwatch.GetTimestamp();
        _log?.WriteHeader(DateTimeOffset.UtcNow);
        _previousSent = _stats.Sent;
        _previousDelivered = _stats.Delivered;
        _stats.Latency.SnapshotInto(_latency[0]);
        _stats.PacerLag.SnapshotInto(_lag[0]);
        if (_interval <= TimeSpan.Zero) return;
        _thread = new Thread(Run) { IsBackground = true, Name = "intervals" };
        _thread.Start();
    }

    /// <summary>Ends the last (partial) interval; call when the phase is over and its last deliveries are in.</summary>
    public void Stop()
    {
        if (_start == 0) return;
        _stop.Cancel();
        _thread?.Join();
        lock (_rows)
        {
            // The last, partial interval is kept whenever something happened in it, so the rows add up to the run.
            bool quiet = _stats.Sent == _previousSent && _stats.Delivered == _previousDelivered && _stats.Latency.TotalCount == _latency[0].Count && _rows.Count > 0;
            if (_interval <= TimeSpan.Zero || !quiet) Sample(keep: _interval > TimeSpan.Zero);
        }
        _start = 0;
    }

    public void Dispose()
    {
        Stop();
        _stop.Dispose();
    }

    private void Run()
    {
        long next = _start;
        long step = (long)(_interval.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            next += step;
            long wait = next - Stopwatch.GetTimestamp();
            if (wait > 0 && _stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency))) return;
            lock (_rows)
            {
                if (_stop.IsCancellationRequested) return;
                Sample(keep: true);
            }
        }
    }

    private void Sample(bool keep)
    {
        long now = Stopwatch.GetTimestamp();
        long sent = _stats.Sent, delivered = _stats.Delivered;
        _stats.Latency.SnapshotInto(_latency[1]);
        _latency[2].SetDifference(_latency[1], _latency[0]);
        LatencySummary? lag = null;
        if (_paced)
        {
            _stats.PacerLag.SnapshotInto(_lag[1]);
            _lag[2].SetDifference(_lag[1], _lag[0]);
            lag = LatencySummary.Of(_lag[2]);
        }
        double startSeconds = (_previousAt - _start) / (double)Stopwatch.Frequency;
        double seconds = (now - _previousAt) / (double)Stopwatch.Frequency;
        var row = new IntervalRow(startSeconds, seconds, sent - _previousSent, delivered - _previousDelivered, LatencySummary.Of(_latency[2]), lag);
        _log?.Append(_latency[2], startSeconds, seconds);
        if (_paced) _log?.Append(_lag[2], startSeconds, seconds, "pacer_lag");
        (_latency[0], _latency[1]) = (_latency[1], _latency[0]);
        (_lag[0], _lag[1]) = (_lag[1], _lag[0]);
        (_previousAt, _previousSent, _previousDelivered) = (now, sent, delivered);
        if (!keep) return;
        _rows.Add(row);
        _onRow?.Invoke(row);
    }
}
