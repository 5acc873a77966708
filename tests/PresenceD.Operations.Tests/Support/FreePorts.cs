using System.Net;
using System.Net.Sockets;

namespace PresenceD.Operations.Tests.Support;

/// <summary>Loopback ports that were free a moment ago, for child processes that need a fixed port.</summary>
internal static class FreePorts
{
    public static int Next()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
