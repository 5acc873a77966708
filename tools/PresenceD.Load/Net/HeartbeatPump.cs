using System.Diagnostics;

namespace PresenceD.Load.Net;

/// <summary>
/// Keeps load connections alive: one background thread walks every connection four times per heartbeat and sends
/// PING to those that have sent nothing for half of WELCOME's heartbeat_ms (publishers, which send anyway, are skipped).
/// </summary>
internal sealed class HeartbeatPump : IDisposable
{
    private readonly object _lock = new();
    private readonly List<LoadConnection> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private LoadConnection[] _snapshot = [];
    private long _heartbeatMs = 5000;

    public HeartbeatPump()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "heartbeats" };
        _thread.Start();
    }

    public void Add(LoadConnection connection)
    {
        lock (_lock)
        {
            _connections.Add(connection);
            _snapshot = [];
            if (connection.Welcome is { } welcome) _heartbeatMs = Math.Min(_heartbeatMs, Math.Max(100, welcome.HeartbeatMs));
        }
    }

    public void Remove(LoadConnection connection)
    {
        lock (_lock)
        {
            _connections.Remove(connection);
            _snapshot = [];
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(5));
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            long heartbeatMs;
            LoadConnection[] connections;
            lock (_lock)
            {
                if (_snapshot.Length != _connections.Count) _snapshot = [.. _connections];
                connections = _snapshot;
                heartbeatMs = _heartbeatMs;
            }
            long idleTicks = heartbeatMs * Stopwatch.Frequency / 2000;
            long now = Stopwatch.GetTimestamp();
            foreach (LoadConnection connection in connections)
                if (connection.IsOpen && now - connection.LastSendTimestamp >= idleTicks) connection.Ping();
            _stop.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Max(25, heartbeatMs / 4)));
        }
    }
}
