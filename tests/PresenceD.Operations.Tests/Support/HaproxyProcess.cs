using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Support;

/// <summary>
/// /usr/sbin/haproxy in the foreground (-db) on a given config, with its log lines (it logs to stdout)
/// and its stats socket for server states. Disposing kills it.
/// </summary>
internal sealed class HaproxyProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly LogLines _lines = new();
    private readonly string _statsSocket;

    private HaproxyProcess(Process process, string statsSocket)
    {
        _process = process;
        _statsSocket = statsSocket;
    }

    public string Output => _lines.ToString();

    public static HaproxyProcess Start(string haproxy, string configPath, string statsSocket)
    {
        var start = new ProcessStartInfo(haproxy, ["-db", "-f", configPath]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var process = new Process { StartInfo = start };
        var proxy = new HaproxyProcess(process, statsSocket);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) proxy._lines.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) proxy._lines.Add(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return proxy;
    }

    /// <summary>Server name -> status ("UP", "DOWN", "UP 1/2", ...) of one backend, from "show stat"; empty before the socket is up.</summary>
    public async Task<Dictionary<string, string>> ServerStatesAsync(string backend)
    {
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        string csv;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(_statsSocket));
            await socket.SendAsync("show stat\n"u8.ToArray(), SocketFlags.None);
            var text = new StringBuilder();
            byte[] buffer = new byte[8192];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0) text.Append(Encoding.ASCII.GetString(buffer, 0, n));
            csv = text.ToString();
        }
        catch (SocketException)
        {
            return states;
        }
        string[] lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || !lines[0].StartsWith("# ", StringComparison.Ordinal)) return states;
        int status = Array.IndexOf(lines[0][2..].Split(','), "status");
        foreach (string line in lines.Skip(1))
        {
            string[] fields = line.Split(',');
            if (fields[0] == backend && fields[1] is not ("BACKEND" or "FRONTEND")) states[fields[1]] = fields[status];
        }
        return states;
    }

    /// <summary>Polls the stats socket until <paramref name="server"/>'s status starts with <paramref name="status"/>.</summary>
    public Task WaitForServerAsync(string backend, string server, string status, TimeSpan timeout)
    {
        Dictionary<string, string> states = [];
        return Eventually.TrueAsync(async () =>
        {
            if (_process.HasExited) throw new Xunit.Sdk.XunitException($"haproxy exited with {_process.ExitCode} before showing {backend}/{server} {status}; output:\n{Output}");
            states = await ServerStatesAsync(backend);
            return states.TryGetValue(server, out string? current) && current.StartsWith(status, StringComparison.Ordinal);
        }, $"haproxy to show {backend}/{server} {status}", timeout, () => $"states: {string.Join(", ", states)}; output:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
