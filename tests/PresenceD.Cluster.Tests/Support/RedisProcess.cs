using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using PresenceD.Server.Backplane;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Support;

/// <summary>A throwaway redis-server on a free loopback port, without persistence, that tests can kill, restart, pause, resume and query.</summary>
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
        var info = new ProcessStartInfo(ChildProcess.Find("redis-server") ?? "redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" })
        {
            info.ArgumentList.Add(arg);
        }
        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Process started = _process;
        await Ports.WaitListeningAsync(Port, "redis-server", TimeSpan.FromSeconds(10), () =>
        {
            if (started.HasExited) throw new InvalidOperationException($"redis-server exited with {started.ExitCode}");
        });
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

    public void Pause() => Signals.Send(_process!.Id, "STOP");

    public void Resume() => Signals.Send(_process!.Id, "CONT");

    /// <summary>One command on a connection of its own; the reply as text (null for a nil reply, an integer as digits).</summary>
    public async Task<string?> CommandAsync(params string[] arguments)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(Ports.Loopback(Port));
        await using var stream = new NetworkStream(socket);
        var request = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{arguments.Length}\r\n");
        foreach (string argument in arguments) request.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(argument)}\r\n{argument}\r\n");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        string line = await reader.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("redis closed the connection");
        return line[0] switch
        {
            '+' or ':' => line[1..],
            '$' when line == "$-1" => null,
            '$' => await reader.ReadLineAsync(timeout.Token),
            _ => throw new InvalidOperationException($"redis answered {line} to {string.Join(' ', arguments)}"),
        };
    }

    /// <summary>Waits until Redis holds <paramref name="room"/>'s history up to <paramref name="offset"/> (history_append.lua ran that far).</summary>
    public Task WaitForHistoryOffsetAsync(string room, long offset)
    {
        string key = new RoomKeys(room).History[1]!;
        return Eventually.TrueAsync(
            async () => long.TryParse(await CommandAsync("HGET", key, "last"), CultureInfo.InvariantCulture, out long last) && last >= offset,
            $"Redis to hold the history of {room} up to offset {offset} (HGET {key} last)");
    }

    public void Dispose()
    {
        if (_process is not null)
        {
            Signals.Send(_process.Id, "CONT");
            Kill();
        }
    }
}
