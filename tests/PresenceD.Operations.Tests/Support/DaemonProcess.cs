using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace PresenceD.Operations.Tests.Support;

/// <summary>
/// The real `presenced` binary (built next to the tests) as a child process with its own config file
/// in a temporary directory. Every stdout/stderr line is kept for assertions; signals go through kill(1).
/// Disposing kills a process that is still running, so no daemon outlives its test.
/// </summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private DaemonProcess(Process process, string directory, string configPath)
    {
        _process = process;
        Directory = directory;
        ConfigPath = configPath;
    }

    public static string BinaryPath => Path.Combine(AppContext.BaseDirectory, "presenced");

    public string Directory { get; }

    public string ConfigPath { get; }

    public int Pid => _process.Id;

    public IReadOnlyCollection<string> Lines => _lines;

    public bool HasExited => _process.HasExited;

    public string Output => string.Join("\n", _lines);

    /// <summary>Starts presenced with <paramref name="config"/> as presenced.conf plus <paramref name="arguments"/>.</summary>
    public static DaemonProcess Start(string config, IReadOnlyDictionary<string, string>? environment = null, params string[] arguments)
    {
        string directory = Path.Combine(Path.GetTempPath(), "presenced-ops-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        string configPath = Path.Combine(directory, "presenced.conf");
        File.WriteAllText(configPath, config);
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        start.ArgumentList.Add(configPath);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("PRESENCED_", StringComparison.Ordinal) || k is "NOTIFY_SOCKET" or "WATCHDOG_USEC" or "WATCHDOG_PID" or "JOURNAL_STREAM").ToList())
        {
            start.Environment.Remove(key);
        }
        if (environment is not null)
        {
            foreach ((string key, string value) in environment) start.Environment[key] = value;
        }
        var process = new Process { StartInfo = start };
        var daemon = new DaemonProcess(process, directory, configPath);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) daemon._lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) daemon._lines.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return daemon;
    }

    /// <summary>A config with the test defaults (fast timer tick) and the given extra lines.</summary>
    public static string Config(int port, params string[] lines) =>
        $"bind 127.0.0.1\nport {port}\ntimer_tick 20ms\n" + string.Join("\n", lines) + "\n";

    public static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);

    /// <summary>Waits for an output line containing every fragment.</summary>
    public async Task<string> WaitForLineAsync(TimeSpan timeout, params string[] fragments)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            string? line = _lines.FirstOrDefault(l => fragments.All(f => l.Contains(f, StringComparison.Ordinal)));
            if (line is not null) return line;
            if (_process.HasExited && clock.Elapsed > TimeSpan.FromMilliseconds(200)) break;
            await Task.Delay(20);
        }
        throw new Xunit.Sdk.XunitException($"presenced printed no line with [{string.Join("], [", fragments)}]; output:\n{Output}");
    }

    /// <summary>Waits until the daemon logged that it listens (its start line).</summary>
    public Task<string> WaitUntilListeningAsync() => WaitForLineAsync(TimeSpan.FromSeconds(15), "presenced listening on");

    public void Signal(string name)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill", ["-" + name, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{name} {Pid} failed");
    }

    /// <summary>The exit code, or null when the process is still running after <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
