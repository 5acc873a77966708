using System.Net;
using System.Net.Sockets;

namespace PresenceD.Tests.Shared;

/// <summary>Loopback ports for servers the tests start.</summary>
internal static class Ports
{
    // Ports for servers are taken below the kernel's ephemeral range: a port from there (what binding port 0 gives)
    // can be taken, between the probe and the server's own bind, as the source port of any outgoing connection (a
    // Redis replica's, a client's), which failed a CI run with "Address already in use". Each process starts at its
    // own random place in the range and never hands the same port out twice.
    private static readonly (int Low, int High) Range = PortsBelowEphemeral();
    private static int _next = Random.Shared.Next(Range.High - Range.Low);

    /// <summary>A loopback port that was free a moment ago (bound, released) and outside the ephemeral range.</summary>
    public static int Free()
    {
        int span = Range.High - Range.Low;
        for (int attempt = 0; attempt < span; attempt++)
        {
            int port = Range.Low + (int)((uint)Interlocked.Increment(ref _next) % (uint)span);
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
            }
        }
        throw new InvalidOperationException($"no free loopback port in {Range.Low}-{Range.High}");
    }

    /// <summary>10000 up to the start of net.ipv4.ip_local_port_range (32768 when it cannot be read), as [low, high).</summary>
    private static (int Low, int High) PortsBelowEphemeral()
    {
        int ephemeralLow = 32768;
        try
        {
            string[] range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (range.Length > 0 && int.TryParse(range[0], out int low)) ephemeralLow = low;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        // A machine whose ephemeral range starts this low leaves nothing outside it: take the ports above its start.
        return ephemeralLow > 12000 ? (10000, ephemeralLow) : (ephemeralLow, 65536);
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
