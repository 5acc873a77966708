using System.Net;
using System.Net.Sockets;

namespace PresenceD.Server.Hosting;

/// <summary>The `bind` setting as an address: an IP literal as is, a host name resolved (IPv4 first).</summary>
internal static class BindAddress
{
    public static IPAddress Resolve(string bind)
    {
        if (IPAddress.TryParse(bind, out IPAddress? address)) return address;
        IPAddress[] addresses = Dns.GetHostAddresses(bind);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound);
    }
}
