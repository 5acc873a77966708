using System.Diagnostics;

namespace PresenceD.Clients.Tests;

/// <summary>A child process whose output lines a test waits for, and whose stdin it writes commands to.</summary>
internal sealed class LineProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<string> _all = [];

    private LineProcess(Process process) => _process = process;

    public string Name { get; private init; } = "";

    /// <summary>Everything printed so far (stdout and stderr), for failure messages.</summary>
    public string Transcript
    {
        get { lock (_lines) return string.Join('\n', _all); }
    }

    public static LineProcess Start(string file, IEnumerable<string> args)
    {
        // A framework-dependent tool without its apphost runs through dotnet.
        var start = file.EndsWith(".dll", StringComparison.Ordinal) ? new ProcessStartInfo("dotnet") : new ProcessStartInfo(file);
        if (file.EndsWith(".dll", StringComparison.Ordinal)) start.ArgumentList.Add(file);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.StandardOutputEncoding = System.Text.Encoding.UTF8;
        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + file);
        var lines = new LineProcess(process) { Name = Path.GetFileName(file) };
        process.OutputDataReceived += (_, e) => lines.Add(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => lines.Add(e.Data, stdout: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return lines;
    }

    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>The first unconsumed stdout line that matches (consumed now); fails the test after the timeout.</summary>
    public async Task<string> WaitAsync(Func<string, bool> match, string what, int timeoutMs = 15000)
    {
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < timeoutMs)
        {
            lock (_lines)
            {
                int i = _lines.FindIndex(l => match(l));
                if (i >= 0)
                {
                    string line = _lines[i];
                    _lines.RemoveAt(i);
                    return line;
                }
            }
            if (_process.HasExited && clock.ElapsedMilliseconds > 500) break;
            await Task.Delay(10);
        }
        Assert.Fail($"{Name}: no line with {what} within {timeoutMs} ms. It printed:\n{Transcript}");
        return "";
    }

    public async Task<int> WaitForExitAsync(int timeoutMs)
    {
        using var cancel = new CancellationTokenSource(timeoutMs);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                using var cancel = new CancellationTokenSource(3000);
                try
                {
                    await _process.WaitForExitAsync(cancel.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Add(string? line, bool stdout)
    {
        if (line is null) return;
        lock (_lines)
        {
            _all.Add(stdout ? line : "stderr: " + line);
            if (stdout) _lines.Add(line);
        }
    }
}
