using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PresenceD.Tests.Shared;

/// <summary>
/// The real daemon (src/PresenceD.Server's build output) run as a child process on a free loopback port, for
/// integration tests. Stop() kills it hard (like a crash); Terminate() sends SIGTERM (a drain with GOAWAY SHUTDOWN).
/// Restart() brings it back on the same port.
/// </summary>
internal sealed class PresencedDaemon : IAsyncDisposable
{
    private readonly string[] _extraArgs;
    private readonly string _workDir;
    private Process? _process;
    private readonly List<string> _output = [];

    private PresencedDaemon(int port, string[] extraArgs)
    {
        Port = port;
        _extraArgs = extraArgs;
        _workDir = Directory.CreateTempSubdirectory("presenced-test-").FullName;
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public int ProcessId => _process?.Id ?? 0;

    /// <summary>Everything the daemon printed (for assertion messages).</summary>
    public string Output
    {
        get { lock (_output) return string.Join('\n', _output); }
    }

    public static async Task<PresencedDaemon> StartAsync(params string[] extraArgs)
    {
        var daemon = new PresencedDaemon(FreePort(), extraArgs);
        await daemon.LaunchAsync();
        return daemon;
    }

    /// <summary>A daemon with a port reserved but not started yet (<see cref="LaunchAsync"/> starts it), for clients that come first.</summary>
    public static PresencedDaemon Unstarted(params string[] extraArgs) => new(FreePort(), extraArgs);

    /// <summary>Kills the process at once (no drain, no GOAWAY): what clients see when a server crashes.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
        _process = null;
    }

    /// <summary>SIGTERM: the daemon drains (GOAWAY SHUTDOWN with a reconnect hint) and exits.</summary>
    public async Task TerminateAsync()
    {
        Process? process = _process;
        if (process is null) return;
        using Process kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (!await WaitExitAsync(process, TimeSpan.FromSeconds(15))) process.Kill(entireProcessTree: true);
        process.Dispose();
        _process = null;
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The daemon executable built beside the tests (same configuration).</summary>
    public static string ExecutablePath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        string configuration = dir.Parent?.Name ?? "Release";
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PresenceD.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("PresenceD.sln not found above " + AppContext.BaseDirectory);
        string exe = Path.Combine(dir.FullName, "src", "PresenceD.Server", "bin", configuration, "net10.0", "presenced");
        if (!File.Exists(exe)) throw new InvalidOperationException($"daemon not built: {exe}");
        return exe;
    }

    /// <summary>A port that was free a moment ago (bind to 0, read, release).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Starts the process and returns once its port accepts connections.</summary>
    public async Task LaunchAsync()
    {
        var start = new ProcessStartInfo(ExecutablePath())
        {
            WorkingDirectory = _workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--bind");
        start.ArgumentList.Add("127.0.0.1");
        foreach (string arg in _extraArgs) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start presenced");
        process.OutputDataReceived += (_, e) => Log(e.Data);
        process.ErrorDataReceived += (_, e) => Log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"presenced exited with {process.ExitCode}:\n{Output}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(50);
            }
        }
    }

    private void Log(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
    }

    private static async Task<bool> WaitExitAsync(Process process, TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
