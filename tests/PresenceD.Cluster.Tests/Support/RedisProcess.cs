using System.Diagnostics;
using System.Globalization;
using PresenceD.Server.Backplane;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Support;

/// <summary>
/// One throwaway redis-server (or sentinel) on a loopback port, without persistence, that tests can kill, restart,
/// pause, resume and query. <see cref="Arguments"/> are its command line after the port, fixed at creation so a
/// restart brings back the same role (cluster node, replica, sentinel).
/// </summary>
internal sealed class RedisProcess : IDisposable
{
    private Process? _process;

    private RedisProcess(int port, IReadOnlyList<string> arguments)
    {
        Port = port;
        Arguments = arguments;
    }

    public int Port { get; }

    public IReadOnlyList<string> Arguments { get; }

    public string Endpoint => "127.0.0.1:" + Port;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>A plain redis-server on a free port.</summary>
    public static Task<RedisProcess> StartAsync() => StartAsync(Ports.Free(), []);

    /// <param name="arguments">After `--port P --bind 127.0.0.1 ...`; a first argument ending in .conf is the config file (sentinels).</param>
    public static async Task<RedisProcess> StartAsync(int port, IReadOnlyList<string> arguments)
    {
        var redis = new RedisProcess(port, arguments);
        await redis.RestartAsync();
        return redis;
    }

    /// <summary>Starts it (again, on the same port; empty unless its arguments keep state, as a cluster node's config file does).</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo(ChildProcess.Find("redis-server") ?? "redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        bool hasConfigFile = Arguments.Count > 0 && Arguments[0].EndsWith(".conf", StringComparison.Ordinal);
        if (hasConfigFile) info.ArgumentList.Add(Arguments[0]);
        foreach (string arg in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" })
        {
            info.ArgumentList.Add(arg);
        }
        foreach (string arg in Arguments.Skip(hasConfigFile ? 1 : 0)) info.ArgumentList.Add(arg);
        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Process started = _process;
        await Ports.WaitListeningAsync(Port, "redis-server", TimeSpan.FromSeconds(10), () =>
        {
            if (started.HasExited) throw new InvalidOperationException($"redis-server {string.Join(' ', info.ArgumentList)} exited with {started.ExitCode}");
        });
    }

    /// <summary>kill -9 (no shutdown, data gone).</summary>
    public void Kill()
    {
        if (_process is null) return;
        if (!_process.HasExited) Signals.Send(_process.Id, "CONT");
        _process.Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
        _process = null;
    }

    public void Pause() => Signals.Send(_process!.Id, "STOP");

    public void Resume() => Signals.Send(_process!.Id, "CONT");

    /// <summary>One command on a connection of its own; the reply as text (null for nil, an integer as digits, an array's items joined by newlines).</summary>
    public async Task<string?> CommandAsync(params string[] arguments) => Resp.Text(await RequestAsync(arguments));

    /// <summary>One command; the reply as RESP values (string, long, null or a list of them); an error reply throws <see cref="RedisReplyException"/>.</summary>
    public Task<object?> RequestAsync(params string[] arguments) => Resp.RequestAsync(Port, arguments);

    /// <summary>
    /// The channels (sub and ssub) this server counts for the pubsub connections named <paramref name="clientName"/>, and
    /// those connections' CLIENT LIST lines, each after this server's port (what a failure shows).
    /// </summary>
    public async Task<(int Held, string Clients)> ChannelsHeldByAsync(string clientName)
    {
        int held = 0;
        var clients = new System.Text.StringBuilder();
        foreach (string line in (await CommandAsync("CLIENT", "LIST", "TYPE", "pubsub") ?? "").Split('\n'))
        {
            string[] fields = line.Trim().Split(' ');
            if (!fields.Contains("name=" + clientName, StringComparer.Ordinal)) continue;
            clients.Append(Port.ToString(CultureInfo.InvariantCulture)).Append(": ").AppendLine(line.Trim());
            foreach (string field in fields)
            {
                if (field.StartsWith("sub=", StringComparison.Ordinal)) held += int.Parse(field.AsSpan(4), CultureInfo.InvariantCulture);
                else if (field.StartsWith("ssub=", StringComparison.Ordinal)) held += int.Parse(field.AsSpan(5), CultureInfo.InvariantCulture);
            }
        }
        return (held, clients.ToString());
    }

    /// <summary>Waits until Redis holds <paramref name="room"/>'s history up to <paramref name="offset"/> (history_append.lua ran that far).</summary>
    public Task WaitForHistoryOffsetAsync(string room, long offset) => WaitForHistoryOffsetAsync(this, room, offset);

    /// <summary>The history counter key of a room (`pd:e:{room}`), as the server names it.</summary>
    public static string HistoryCounterKey(string room) => new RoomKeys(room, new RedisDeployment(RedisDeploymentKind.SingleServer, null, 1)).History[1]!;

    internal static Task WaitForHistoryOffsetAsync(RedisProcess owner, string room, long offset)
    {
        string key = HistoryCounterKey(room);
        return Eventually.TrueAsync(
            async () => long.TryParse(await owner.CommandAsync("HGET", key, "last"), CultureInfo.InvariantCulture, out long last) && last >= offset,
            $"Redis to hold the history of {room} up to offset {offset} (HGET {key} last)");
    }

    public void Dispose() => Kill();
}
