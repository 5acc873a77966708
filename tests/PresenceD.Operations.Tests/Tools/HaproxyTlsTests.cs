using PresenceD.Operations.Tests.Support;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Tools;

/// <summary>The example tools/haproxy-tls.cfg: a real haproxy terminates TLS in front of a plain presenced behind PROXY v2.</summary>
public sealed class HaproxyTlsTests : IDisposable
{
    private const string Backend = "presenced_nodes";
    private static readonly string ExamplePath = Path.Combine(AppContext.BaseDirectory, "tools", "haproxy-tls.cfg");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TestCertificates _certificates = TestCertificates.Create();

    public void Dispose() => _certificates.Dispose();

    [RequiresProgramFact("haproxy")]
    public async Task Tls_clients_reach_a_plain_node_through_haproxy_which_names_their_address()
    {
        int front = Ports.Free(), port = Ports.Free(), admin = Ports.Free();
        await using DaemonProcess node = DaemonProcess.Start(DaemonSetup.WithConfig(port, "proxy_protocol on", $"admin_port {admin}", "node_id node-a"));
        string combined = Path.Combine(node.Directory, "presenced.pem");
        await File.WriteAllTextAsync(combined, await File.ReadAllTextAsync(_certificates.ServerCertFile) + await File.ReadAllTextAsync(_certificates.ServerKeyFile));
        string statsSocket = Path.Combine(node.Directory, "haproxy.sock");
        string config = await File.ReadAllTextAsync(ExamplePath);
        config = Replace(config, "bind :7400 ssl crt /etc/haproxy/certs/presenced.pem", $"bind 127.0.0.1:{front} ssl crt {combined}");
        config = Replace(config, "/run/haproxy/presenced.sock", statsSocket);
        config = Replace(config, "server node1 10.0.0.11:7400 port 9400", $"server node1 127.0.0.1:{port} port {admin}");
        config = Replace(config, "    server node2 10.0.0.12:7400 port 9400\n", "");
        config = Replace(config, "inter 2s", "inter 200ms");
        string configPath = Path.Combine(node.Directory, "haproxy.cfg");
        await File.WriteAllTextAsync(configPath, config);
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(ChildProcess.Find("haproxy")!, ["-c", "-f", configPath], Wait);
        Assert.True(exit == 0, $"haproxy -c exited {exit}: {stdout}{stderr}");
        await node.WaitUntilListeningAsync();
        await using HaproxyProcess haproxy = HaproxyProcess.Start(ChildProcess.Find("haproxy")!, configPath, statsSocket);
        await haproxy.WaitForServerAsync(Backend, "node1", "UP", Wait);

        var tls = new TestTls(_certificates.CaFile);
        await using TestClient alice = await TestClient.HelloAsync(Ports.Loopback(front), "alice", tls: tls);
        await using TestClient bob = await TestClient.HelloAsync(Ports.Loopback(front), "bob", tls: tls);
        Assert.NotNull(alice.TlsProtocol);
        await alice.SendAsync(b => ClientFrames.Join(b, 2, "lobby"));
        await alice.ExpectAsync<JoinedMessage>();
        await bob.SendAsync(b => ClientFrames.Join(b, 2, "lobby"));
        Assert.Equal(2, (await bob.ExpectAsync<JoinedMessage>()).Total);
        await alice.ExpectAsync<PresenceDiffMessage>();
        await bob.SendAsync(b => ClientFrames.Publish(b, 3, "lobby", [42]));
        Assert.Equal([42], (await alice.ExpectAsync<RoomMessage>()).Payload);

        await bob.SendAsync(ClientFrames.Bye);
        await bob.ReadUntilClosedAsync();
        // The node saw the client's own address through the PROXY header, not haproxy's socket.
        Assert.Contains("from 127.0.0.1:", await node.WaitForLineAsync(Wait, "user bob from", "closed: Bye"));
    }

    private static string Replace(string text, string from, string to)
    {
        Assert.True(text.Contains(from, StringComparison.Ordinal), $"tools/haproxy-tls.cfg no longer contains '{from}'");
        return text.Replace(from, to, StringComparison.Ordinal);
    }
}
