using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace PresenceD.Tests.Shared;

/// <summary>How to start a <see cref="DaemonProcess"/>.</summary>
internal sealed record DaemonSetup
{
    /// <summary>presenced.conf text, written to the daemon's directory and passed as its first argument; when null
    /// there is no file and <c>--port</c> and <c>--bind 127.0.0.1</c> go on the command line.</summary>
    public string? Config { get; init; }

    /// <summary>With <see cref="Config"/>: the port the config names. Without: the port to use, 0 for a free one.</summary>
    public int Port { get; init; }

    /// <summary>More arguments, after the config path or the port and bind.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Variables to set. The inherited PRESENCED_* and systemd variables are removed first, so the daemon only sees the test's.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Names the daemon in failure messages and in its log file.</summary>
    public string Name { get; init; } = "presenced";

    /// <summary>Also writes every line to a file in the temp directory that outlives the test, for a post-mortem.</summary>
    public bool KeepLogFile { get; init; }

    /// <summary>A presenced.conf with the test defaults (<see cref="DaemonProcess.Config"/>) on <paramref name="port"/> plus <paramref name="lines"/>.</summary>
    public static DaemonSetup WithConfig(int port, params string[] lines) => new() { Config = DaemonProcess.Config(port, lines), Port = port };
}

/// <summary>
/// The real `presenced` binary (built beside the tests) as a child process in its own temporary directory.
/// Every stdout/stderr line is kept (<see cref="Lines"/>) for assertions and waits; signals go through kill(1).
/// <see cref="KillAsync"/> is a crash (SIGKILL), <see cref="TerminateAsync"/> a drain (SIGTERM),
/// <see cref="RestartAsync"/> brings it back on the same port. Disposing kills it, so no daemon outlives its test.
/// </summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private static readonly string[] ScrubbedVariables = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"];

    private readonly DaemonSetup _setup;
    private readonly StreamWriter? _logFile;
    private readonly string? _configPath;
    private Process? _process;
    private int _launchedAtLine;

    private DaemonProcess(DaemonSetup setup, int port)
    {
        _setup = setup;
        Port = port;
        Directory = System.IO.Directory.CreateTempSubdirectory("presenced-test-").FullName;
        if (setup.Config is not null)
        {
            _configPath = Path.Combine(Directory, "presenced.conf");
            File.WriteAllText(_configPath, setup.Config);
        }
        if (setup.KeepLogFile)
        {
            LogPath = Path.Combine(Path.GetTempPath(), $"presenced-test-{setup.Name}-{port}.log");
            _logFile = new StreamWriter(LogPath) { AutoFlush = true };
        }
    }

    /// <summary>The daemon executable: the server project's build output of the tests' configuration, else the copy beside the tests.</summary>
    public static string BinaryPath { get; } = FindBinary();

    public string Name => _setup.Name;

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public IPEndPoint EndPoint => Ports.Loopback(Port);

    /// <summary>The daemon's working directory (deleted on dispose).</summary>
    public string Directory { get; }

    /// <summary>Where its presenced.conf is (started with a <see cref="DaemonSetup.Config"/> only).</summary>
    public string ConfigPath => _configPath ?? throw new InvalidOperationException($"{Name} was started without a config file");

    /// <summary>The log file kept after the test, when asked for.</summary>
    public string? LogPath { get; }

    /// <summary>Everything the daemon printed, across restarts.</summary>
    public LogLines Lines { get; } = new();

    public string Output => Lines.ToString();

    public int Pid => _process?.Id ?? 0;

    public bool HasExited => _process?.HasExited ?? true;

    /// <summary>Starts the daemon and returns at once (see <see cref="WaitUntilListeningAsync"/>, <see cref="WaitForExitAsync"/>).</summary>
    public static DaemonProcess Start(DaemonSetup setup)
    {
        if (setup.Config is not null && setup.Port == 0) throw new ArgumentException("with a config, Port must be the one it names", nameof(setup));
        var daemon = new DaemonProcess(setup, setup.Port != 0 ? setup.Port : Ports.Free());
        daemon.Launch();
        return daemon;
    }

    /// <summary>Starts the daemon and waits for its start line (<see cref="WaitUntilListeningAsync"/>).</summary>
    public static async Task<DaemonProcess> StartAsync(DaemonSetup setup)
    {
        DaemonProcess daemon = Start(setup);
        try
        {
            await daemon.WaitUntilListeningAsync();
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
        return daemon;
    }

    /// <summary>A daemon whose port is chosen but which is not running yet (a client may try the port first); <see cref="LaunchAsync"/> starts it.</summary>
    public static DaemonProcess Unstarted(params string[] arguments) => new(new DaemonSetup { Arguments = arguments }, Ports.Free());

    /// <summary>Starts an <see cref="Unstarted"/> daemon and waits for its start line.</summary>
    public async Task LaunchAsync()
    {
        Launch();
        await WaitUntilListeningAsync();
    }

    /// <summary>On a free loopback port with <paramref name="arguments"/>, waiting for its start line.</summary>
    public static Task<DaemonProcess> StartAsync(params string[] arguments) => StartAsync(new DaemonSetup { Arguments = arguments });

    /// <summary>A config with the test defaults (loopback, fast timer tick) and the given extra lines.</summary>
    public static string Config(int port, params string[] lines) =>
        $"bind 127.0.0.1\nport {port}\ntimer_tick 20ms\n" + string.Join("\n", lines) + "\n";

    /// <summary>Waits for an output line containing every fragment; fails at once, with the output, if the daemon exits first.</summary>
    public Task<string> WaitForLineAsync(TimeSpan timeout, params string[] fragments) => WaitForLineAsync(timeout, 0, fragments);

    /// <summary>As <see cref="WaitForLineAsync(TimeSpan, string[])"/>, among the lines from index <paramref name="from"/> on (take <c>Lines.Count</c> before the cause).</summary>
    public Task<string> WaitForLineAsync(TimeSpan timeout, int from, params string[] fragments) => Lines.WaitForAsync(timeout, from, ExitReason, fragments);

    /// <summary>
    /// Waits for the start line of the current run, which the daemon logs once it is ready for clients. Its port
    /// accepts earlier, during the warm-up session, so a port that answers is not yet a daemon that is ready.
    /// Needs log_level info or lower.
    /// </summary>
    public Task<string> WaitUntilListeningAsync() => WaitForLineAsync(TimeSpan.FromSeconds(20), _launchedAtLine, "presenced listening on");

    public void Signal(string name) => Signals.Send(Pid != 0 ? Pid : throw new InvalidOperationException($"{Name} is not running"), name);

    /// <summary>The exit code, or null when the process is still running after <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        Process process = _process ?? throw new InvalidOperationException($"{Name} is not running");
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        process.WaitForExit(); // drains the redirected output
        return process.ExitCode;
    }

    /// <summary>SIGKILL and wait for the exit: no drain, no GOAWAY, no BYE; what clients and peers see when a server crashes.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } process) return;
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        process.Dispose();
        _process = null;
    }

    /// <summary>SIGTERM: the daemon drains (GOAWAY SHUTDOWN with a reconnect hint) and exits; killed if it takes over 15 s.</summary>
    public async Task TerminateAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited) Signal("TERM");
        if (await WaitForExitAsync(TimeSpan.FromSeconds(15)) is null) _process.Kill(entireProcessTree: true);
        await KillAsync();
    }

    /// <summary>Kills it and starts it again, same port and arguments, waiting for the new start line.</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        Launch();
        await WaitUntilListeningAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        if (_logFile is not null)
        {
            lock (_logFile) _logFile.Dispose();
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Launch()
    {
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        if (_configPath is not null)
        {
            start.ArgumentList.Add(_configPath);
        }
        else
        {
            foreach (string argument in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1" }) start.ArgumentList.Add(argument);
        }
        foreach (string argument in _setup.Arguments) start.ArgumentList.Add(argument);
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("PRESENCED_", StringComparison.Ordinal) || ScrubbedVariables.Contains(k)).ToList())
        {
            start.Environment.Remove(key);
        }
        foreach ((string key, string value) in _setup.Environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = new Process { StartInfo = start };
        _launchedAtLine = Lines.Count;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        Lines.Add(line);
        if (_logFile is null) return;
        lock (_logFile)
        {
            try
            {
                _logFile.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Null while the daemon runs; once it exited, why (after its last lines were read).</summary>
    private string? ExitReason()
    {
        if (_process is not { } process) return $"{Name} was stopped";
        if (!process.HasExited) return null;
        process.WaitForExit(); // drains the redirected output
        return $"{Name} exited with {process.ExitCode}";
    }

    private static string FindBinary()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        string configuration = dir.Parent?.Name ?? "Release";
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PresenceD.sln"))) dir = dir.Parent;
        string? built = dir is null ? null : Path.Combine(dir.FullName, "src", "PresenceD.Server", "bin", configuration, "net10.0", "presenced");
        if (built is not null && File.Exists(built)) return built;
        // A project that references the server assembly has the whole daemon copied beside it; others only its apphost.
        string beside = Path.Combine(AppContext.BaseDirectory, "presenced");
        if (File.Exists(beside) && File.Exists(beside + ".dll")) return beside;
        throw new InvalidOperationException($"daemon not built: neither {built ?? "src/PresenceD.Server/bin/..."} nor {beside}");
    }
}
