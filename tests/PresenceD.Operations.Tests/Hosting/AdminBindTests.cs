using System.Net;
using System.Net.Sockets;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Hosting;

/// <summary>admin_bind puts the admin port on its own address: each port listens there and nowhere else.</summary>
public sealed class AdminBindTests
{
    private static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.1");
    private static readonly IPAddress AdminAddress = IPAddress.Parse("127.0.0.2");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Clients_on_bind_and_admin_on_admin_bind_each_listen_only_on_their_own_address()
    {
        int port = Ports.Free();
        int adminPort = Ports.Free();
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(DaemonSetup.WithConfig(port, $"admin_port {adminPort}", "admin_bind 127.0.0.2"));

        Assert.Contains(daemon.Lines, l => l.Contains($"admin http on 127.0.0.2:{adminPort}", StringComparison.Ordinal));
        using var http = new HttpClient();
        HttpResponseMessage health = await http.GetAsync($"http://127.0.0.2:{adminPort}/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(SocketError.ConnectionRefused, await ConnectAsync(ClientAddress, adminPort));

        await using TestClient client = await TestClient.HelloAsync(new IPEndPoint(ClientAddress, port), "alice");
        Assert.Equal(SocketError.ConnectionRefused, await ConnectAsync(AdminAddress, port));
    }

    [Fact]
    public async Task Without_admin_bind_the_admin_port_is_on_the_bind_address()
    {
        int adminPort = Ports.Free();
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(DaemonSetup.WithConfig(Ports.Free(), $"admin_port {adminPort}"));

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{adminPort}/healthz")).StatusCode);
        Assert.Equal(SocketError.ConnectionRefused, await ConnectAsync(AdminAddress, adminPort));
    }

    [Fact]
    public async Task A_bad_admin_bind_is_a_configuration_error_that_names_it()
    {
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(DaemonProcess.BinaryPath, ["--check-config", "--admin_bind", "not a host"], Wait);

        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        Assert.Contains("command line --admin_bind", stderr);
        Assert.Contains("'not a host' is not an IP address or host name", stderr);
    }

    /// <summary>Success, or the error a refused connection gets (nothing listens on that address and port).</summary>
    private static async Task<SocketError> ConnectAsync(IPAddress address, int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(address, port);
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }
}
