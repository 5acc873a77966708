using System.Diagnostics;

namespace PresenceD.Cluster.Tests.Support;

/// <summary>A throwaway redis-server on a free loopback port, without persistence, that tests can kill, restart, pause and resume.</summary>
internal sealed class RedisProcess : IDisposable
{
    private Process? _process;

    private RedisProcess(int port) => Port = port;

    public int Port { get; }

    public string Endpoint => "127.0.0.1:" + Port;

    public static async Task<RedisProcess> StartAsync()
    {
        var redis = new RedisProcess(Ports.Free());
        await redis.RestartAsync();
        return redis;
    }

    /// <summary>Starts it (again, on the same port, empty).</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo(FindServer())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" })
        {
            info.ArgumentList.Add(arg);
        }
        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Process started = _process;
        await Ports.WaitListeningAsync(Port, TimeSpan.FromSeconds(10), () => !started.HasExited);
    }

    /// <summary>kill -9 (no shutdown, data gone).</summary>
    public void Kill()
    {
        if (_process is null) return;
        _process.Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
        _process = null;
    }

    public void Pause() => Signals.Send(_process!.Id, Signals.SigStop);

    public void Resume() => Signals.Send(_process!.Id, Signals.SigCont);

    public void Dispose()
    {
        if (_process is not null)
        {
            Signals.Send(_process.Id, Signals.SigCont);
            Kill();
        }
    }

    private static string FindServer()
    {
        foreach (string dir in new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin" })
        {
            string path = Path.Combine(dir, "redis-server");
            if (File.Exists(path)) return path;
        }
        return "redis-server";
    }
}
