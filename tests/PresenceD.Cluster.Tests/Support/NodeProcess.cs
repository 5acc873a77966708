using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace PresenceD.Cluster.Tests.Support;

/// <summary>One `presenced` daemon as a child process on a free port, its output kept in a log file.</summary>
internal sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private NodeProcess(string nodeId, int port, Process process, StreamWriter log, string logPath)
    {
        NodeId = nodeId;
        Port = port;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string NodeId { get; }

    public int Port { get; }

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public string LogPath { get; }

    public bool HasExited => _process.HasExited;

    public static async Task<NodeProcess> StartAsync(string nodeId, string redisEndpoint, IReadOnlyDictionary<string, string> settings)
    {
        int port = Ports.Free();
        (string file, string[] prefix) = Binary();
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (string arg in prefix) info.ArgumentList.Add(arg);
        var args = new Dictionary<string, string>(settings)
        {
            ["port"] = port.ToString(CultureInfo.InvariantCulture),
            ["bind"] = "127.0.0.1",
            ["backplane"] = "redis",
            ["redis"] = redisEndpoint,
            ["node_id"] = nodeId,
        };
        foreach ((string key, string value) in args)
        {
            info.ArgumentList.Add("--" + key);
            info.ArgumentList.Add(value);
        }
        string logPath = Path.Combine(Path.GetTempPath(), $"presenced-cluster-test-{nodeId}-{port}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        Process process = Process.Start(info) ?? throw new InvalidOperationException("presenced did not start");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var node = new NodeProcess(nodeId, port, process, log, logPath);
        await Ports.WaitListeningAsync(port, TimeSpan.FromSeconds(20), () => !process.HasExited);
        if (process.HasExited) throw new InvalidOperationException($"presenced {nodeId} exited: see {logPath}");
        return node;
    }

    public Task<TestClient> HelloAsync(string user) => TestClient.HelloAsync(EndPoint, user);

    /// <summary>kill -9: no drain, no BYE, its presence stays in Redis until swept.</summary>
    public void Kill9()
    {
        if (_process.HasExited) return;
        Signals.Send(_process.Id, Signals.SigKill);
        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        Kill9();
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null) return;
        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>The Release apphost beside the server project, else the server assembly copied next to the tests.</summary>
    private static (string File, string[] Prefix) Binary()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "PresenceD.sln"))) dir = Path.GetDirectoryName(dir);
        if (dir is not null)
        {
            string apphost = Path.Combine(dir, "src", "PresenceD.Server", "bin", "Release", "net10.0", "presenced");
            if (File.Exists(apphost)) return (apphost, []);
        }
        return ("dotnet", [Path.Combine(AppContext.BaseDirectory, "presenced.dll")]);
    }
}
