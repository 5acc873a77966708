using System.Net;
using System.Net.Sockets;

namespace PresenceD.Tests.Shared;

/// <summary>Loopback ports for servers the tests start.</summary>
internal static class Ports
{
    /// <summary>A loopback port that was free a moment ago (bound to port 0, read, released).</summary>
    public static int Free()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    public static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);

    /// <summary>True when something accepts a connection on the loopback <paramref name="port"/> now.</summary>
    public static async Task<bool> AnswersAsync(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Waits until <paramref name="port"/> accepts. <paramref name="check"/> runs before each try and throws when
    /// the owner can no longer get there (its process exited), so that failure is reported at once.
    /// </summary>
    public static Task WaitListeningAsync(int port, string owner, TimeSpan? timeout = null, Action? check = null) =>
        Eventually.TrueAsync(() =>
        {
            check?.Invoke();
            return AnswersAsync(port);
        }, $"{owner} to accept connections on 127.0.0.1:{port}", timeout ?? TimeSpan.FromSeconds(20));
}
