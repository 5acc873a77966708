using System.Net;
using System.Net.Sockets;
using PresenceD.Operations.Tests.Support;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Tools;

/// <summary>The example tools/haproxy.cfg, with local addresses, in front of two presenced child processes.</summary>
public sealed class HaproxyTests
{
    private const string Backend = "presenced_nodes";
    private static readonly string ExamplePath = Path.Combine(AppContext.BaseDirectory, "tools", "haproxy.cfg");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [RequiresProgramFact("haproxy")]
    public async Task The_example_config_is_valid()
    {
        string directory = Directory.CreateTempSubdirectory("presenced-haproxy-").FullName;
        try
        {
            // Only the stats socket moves (its directory, /run/haproxy, exists once the haproxy package is set up).
            string config = Replace(await File.ReadAllTextAsync(ExamplePath), "/run/haproxy/presenced.sock", Path.Combine(directory, "stats.sock"));
            string path = Path.Combine(directory, "haproxy.cfg");
            await File.WriteAllTextAsync(path, config);

            (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(ChildProcess.Find("haproxy")!, ["-c", "-f", path], Wait);

            Assert.True(exit == 0, $"haproxy -c exited {exit}: {stdout}{stderr}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [RequiresProgramFact("haproxy")]
    public async Task Clients_reconnecting_after_a_node_dies_land_on_the_survivor_and_haproxy_marks_it_down()
    {
        int front = Ports.Free(), portA = Ports.Free(), adminA = Ports.Free(), portB = Ports.Free(), adminB = Ports.Free();
        await using DaemonProcess nodeA = DaemonProcess.Start(DaemonSetup.WithConfig(portA, "proxy_protocol on", $"admin_port {adminA}", "node_id node-a"));
        await using DaemonProcess nodeB = DaemonProcess.Start(DaemonSetup.WithConfig(portB, "proxy_protocol on", $"admin_port {adminB}", "node_id node-b"));
        string directory = nodeA.Directory;
        string statsSocket = Path.Combine(directory, "haproxy.sock");
        string config = await File.ReadAllTextAsync(ExamplePath);
        config = Replace(config, "bind :7400", $"bind 127.0.0.1:{front}");
        config = Replace(config, "/run/haproxy/presenced.sock", statsSocket);
        config = Replace(config, "server node1 10.0.0.11:7400 port 9400", $"server node1 127.0.0.1:{portA} port {adminA}");
        config = Replace(config, "server node2 10.0.0.12:7400 port 9400", $"server node2 127.0.0.1:{portB} port {adminB}");
        config = Replace(config, "inter 2s", "inter 200ms"); // faster checks, so the test need not wait 4 s
        string configPath = Path.Combine(directory, "haproxy.cfg");
        await File.WriteAllTextAsync(configPath, config);
        await nodeA.WaitUntilListeningAsync();
        await nodeB.WaitUntilListeningAsync();
        await using HaproxyProcess haproxy = HaproxyProcess.Start(ChildProcess.Find("haproxy")!, configPath, statsSocket);
        await haproxy.WaitForServerAsync(Backend, "node1", "UP", Wait);
        await haproxy.WaitForServerAsync(Backend, "node2", "UP", Wait);
        IPEndPoint entry = Ports.Loopback(front);

        var clients = new List<TestClient>();
        for (int i = 0; i < 4; i++) clients.Add(await TestClient.HelloAsync(entry, "user" + i));
        int clientPort = await HelloAndByeFromKnownPortAsync(entry, "traced");
        Assert.Equal(["node-a", "node-b"], clients.Select(c => c.Welcome!.Node).Distinct().Order());
        string traced = await WaitForEitherAsync(nodeA, nodeB, $"user traced from 127.0.0.1:{clientPort} closed: Bye");

        nodeA.Signal("KILL");
        Assert.NotNull(await nodeA.WaitForExitAsync(Wait));
        var reconnected = new List<TestClient>();
        foreach (TestClient client in clients)
        {
            if (client.Welcome!.Node == "node-b") continue;
            Assert.Null(await client.ReceiveAsync(Wait));
            reconnected.Add(await TestClient.HelloAsync(entry, "again"));
        }
        for (int i = 0; i < 2; i++) reconnected.Add(await TestClient.HelloAsync(entry, "new" + i));
        await haproxy.WaitForServerAsync(Backend, "node1", "DOWN", Wait);

        Assert.Equal(4, reconnected.Count);
        Assert.All(reconnected, c => Assert.Equal("node-b", c.Welcome!.Node));
        foreach (TestClient survivor in clients.Where(c => c.Welcome!.Node == "node-b"))
        {
            await survivor.SendAsync(b => ClientFrames.Ping(b, 9));
            Assert.Equal(9u, (await survivor.ExpectAsync<PongMessage>()).Rid);
        }
        Assert.Contains(traced, nodeA.Output + nodeB.Output);
        foreach (TestClient client in clients.Concat(reconnected)) await client.DisposeAsync();
    }

    /// <summary>HELLO then BYE from a socket bound to a chosen local port, so the daemon's log can be matched to it.</summary>
    private static async Task<int> HelloAndByeFromKnownPortAsync(IPEndPoint entry, string user)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        await socket.ConnectAsync(entry);
        using var frames = new FrameBuffer();
        ClientFrames.Hello(frames, 1, user, "ops-tests");
        ClientFrames.Bye(frames);
        await socket.SendAsync(frames.WrittenMemory, SocketFlags.None);
        byte[] sink = new byte[4096];
        using var cts = new CancellationTokenSource(Wait);
        while (await socket.ReceiveAsync(sink, SocketFlags.None, cts.Token) > 0)
        {
        }
        return port;
    }

    private static async Task<string> WaitForEitherAsync(DaemonProcess first, DaemonProcess second, string fragment)
    {
        Task<string> a = first.WaitForLineAsync(Wait, fragment);
        Task<string> b = second.WaitForLineAsync(Wait, fragment);
        Task<string> done = await Task.WhenAny(a, b);
        if (done.IsCompletedSuccessfully) return await done;
        return await (done == a ? b : a);
    }

    private static string Replace(string text, string from, string to)
    {
        Assert.True(text.Contains(from, StringComparison.Ordinal), $"tools/haproxy.cfg no longer contains '{from}'");
        return text.Replace(from, to, StringComparison.Ordinal);
    }
}
