using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PresenceD.Operations.Tests.Support;

/// <summary>PROXY protocol headers as HAProxy writes them, built independently of the parser under test.</summary>
internal static class ProxyHeaders
{
    private static readonly byte[] Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    public static byte[] V1(IPEndPoint source, IPEndPoint destination)
    {
        string family = source.AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6";
        return Encoding.ASCII.GetBytes($"PROXY {family} {source.Address} {destination.Address} {source.Port} {destination.Port}\r\n");
    }

    /// <summary>A v2 PROXY (command 1) header over TCP, optionally followed by a TLV of <paramref name="tlvBytes"/> bytes.</summary>
    public static byte[] V2(IPEndPoint source, IPEndPoint destination, int tlvBytes = 0)
    {
        bool v4 = source.AddressFamily == AddressFamily.InterNetwork;
        int addressLength = v4 ? 12 : 36;
        int tlvLength = tlvBytes == 0 ? 0 : 3 + tlvBytes;
        var header = new byte[16 + addressLength + tlvLength];
        Signature.CopyTo(header, 0);
        header[12] = 0x21;
        header[13] = (byte)(v4 ? 0x11 : 0x21);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)(addressLength + tlvLength));
        int half = v4 ? 4 : 16;
        source.Address.GetAddressBytes().CopyTo(header, 16);
        destination.Address.GetAddressBytes().CopyTo(header, 16 + half);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(16 + 2 * half), (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(18 + 2 * half), (ushort)destination.Port);
        if (tlvLength > 0)
        {
            int tlv = 16 + addressLength;
            header[tlv] = 0x05; // PP2_TYPE_UNIQUE_ID
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(tlv + 1), (ushort)tlvBytes);
            header.AsSpan(tlv + 3).Fill((byte)'u');
        }
        return header;
    }

    /// <summary>A v2 LOCAL header (what HAProxy sends on its own health-check connections).</summary>
    public static byte[] V2Local()
    {
        var header = new byte[16];
        Signature.CopyTo(header, 0);
        header[12] = 0x20;
        return header;
    }
}
