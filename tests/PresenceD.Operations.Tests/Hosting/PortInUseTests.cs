using PresenceD.Operations.Tests.Support;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Hosting;

/// <summary>
/// A port another daemon holds must stop a second one at start (exit 2, the port named), or clients would be
/// split between two daemons that do not know each other.
/// </summary>
public sealed class PortInUseTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_second_daemon_on_a_taken_client_port_exits_2_and_names_the_port()
    {
        int port = Ports.Free();
        await using DaemonProcess first = DaemonProcess.Start(DaemonSetup.WithConfig(port));
        await first.WaitUntilListeningAsync();

        await using DaemonProcess second = DaemonProcess.Start(DaemonSetup.WithConfig(port));
        int? exit = await second.WaitForExitAsync(Wait);

        Assert.True(exit == 2, $"second daemon: exit {exit?.ToString() ?? "none (still running)"}; output:\n{second.Output}");
        Assert.Contains(second.Lines, l => l.Contains($"cannot listen on 127.0.0.1:{port} (port): Address already in use", StringComparison.Ordinal));
        Assert.DoesNotContain(second.Lines, l => l.Contains("presenced listening", StringComparison.Ordinal));
        await using TestClient client = await TestClient.HelloAsync(Ports.Loopback(port), "still-served");
        Assert.NotNull(client.Welcome);
        Assert.False(first.HasExited);
    }

    [Fact]
    public async Task A_taken_admin_port_exits_2_before_any_client_is_accepted()
    {
        int adminPort = Ports.Free();
        await using DaemonProcess first = DaemonProcess.Start(DaemonSetup.WithConfig(Ports.Free(), $"admin_port {adminPort}"));
        await first.WaitUntilListeningAsync();

        int secondPort = Ports.Free();
        await using DaemonProcess second = DaemonProcess.Start(DaemonSetup.WithConfig(secondPort, $"admin_port {adminPort}"));
        int? exit = await second.WaitForExitAsync(Wait);

        Assert.True(exit == 2, $"second daemon: exit {exit?.ToString() ?? "none (still running)"}; output:\n{second.Output}");
        Assert.Contains(second.Lines, l => l.Contains($"cannot listen on 127.0.0.1:{adminPort} (admin_port): Address already in use", StringComparison.Ordinal));
        Assert.DoesNotContain(second.Lines, l => l.Contains("presenced listening", StringComparison.Ordinal));
        Assert.DoesNotContain(second.Lines, l => l.Contains("closed:", StringComparison.Ordinal));
    }
}
