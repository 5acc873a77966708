using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;

namespace PresenceD.Server.Accept;

/// <summary>
/// Parses HAProxy's PROXY protocol header (v1 text, v2 binary; haproxy.org/download/2.6/doc/proxy-protocol.txt).
/// A header naming a TCP source yields that endpoint; LOCAL (v2, the proxy's own checks), UNKNOWN (v1)
/// and non-IP families yield null, meaning "keep the socket's own peer". Anything malformed throws
/// <see cref="InvalidDataException"/>.
/// </summary>
internal static class ProxyHeader
{
    /// <summary>The longest v1 line, CRLF included.</summary>
    public const int V1MaxLength = 107;

    /// <summary>The fixed part of a v2 header: signature, version/command, family, length.</summary>
    public const int V2FixedLength = 16;

    /// <summary>Bytes read before deciding between v1 and v2: less than either's shortest header.</summary>
    public const int PrefixLength = 8;

    /// <summary>The v2 address block and TLVs are refused past this (HAProxy sends far less).</summary>
    public const int V2MaxBodyLength = 4096;

    public static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    public static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    public static bool IsV1(ReadOnlySpan<byte> prefix) => prefix.StartsWith(V1Prefix);

    public static bool IsV2(ReadOnlySpan<byte> prefix) => !prefix.IsEmpty && prefix.Length <= V2Signature.Length && V2Signature.StartsWith(prefix);

    /// <summary>Parses a whole v1 line, CRLF included.</summary>
    public static IPEndPoint? ParseV1(ReadOnlySpan<byte> line)
    {
        if (line.Length > V1MaxLength || !line.EndsWith("\r\n"u8) || !line.StartsWith(V1Prefix))
        {
            throw new InvalidDataException("PROXY v1 line is not 'PROXY ... CRLF' within 107 bytes");
        }
        string[] fields = Encoding.ASCII.GetString(line[..^2]).Split(' ');
        if (fields.Length >= 2 && fields[1] == "UNKNOWN") return null;
        if (fields.Length != 6 || fields[1] is not ("TCP4" or "TCP6"))
        {
            throw new InvalidDataException("PROXY v1 line needs 'PROXY TCP4|TCP6 src dst sport dport'");
        }
        if (!IPAddress.TryParse(fields[2], out IPAddress? source) || !IPAddress.TryParse(fields[3], out _)
            || !TryParsePort(fields[4], out int sourcePort) || !TryParsePort(fields[5], out _))
        {
            throw new InvalidDataException("PROXY v1 line has a bad address or port");
        }
        bool v4 = source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        if (v4 != (fields[1] == "TCP4")) throw new InvalidDataException("PROXY v1 address does not match its family");
        return new IPEndPoint(source, sourcePort);
    }

    /// <summary>The length of the v2 address block and TLVs that follow the 16 fixed bytes.</summary>
    public static int V2BodyLength(ReadOnlySpan<byte> fixedPart)
    {
        if (!fixedPart[..12].SequenceEqual(V2Signature)) throw new InvalidDataException("PROXY v2 signature mismatch");
        if (fixedPart[12] >> 4 != 2) throw new InvalidDataException("PROXY v2 header has an unknown version");
        int length = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[14..]);
        if (length > V2MaxBodyLength) throw new InvalidDataException($"PROXY v2 header of {length} bytes is too long");
        return length;
    }

    /// <summary>Parses a v2 header: the 16 fixed bytes and the body of <see cref="V2BodyLength"/> bytes.</summary>
    public static IPEndPoint? ParseV2(ReadOnlySpan<byte> fixedPart, ReadOnlySpan<byte> body)
    {
        V2BodyLength(fixedPart);
        int command = fixedPart[12] & 0x0F;
        if (command == 0x0) return null; // LOCAL: the proxy's own connection (health check)
        if (command != 0x1) throw new InvalidDataException("PROXY v2 header has an unknown command");
        int family = fixedPart[13] >> 4;
        int transport = fixedPart[13] & 0x0F;
        if (transport is not (0x1 or 0x2) && family != 0) throw new InvalidDataException("PROXY v2 header has an unknown transport");
        switch (family)
        {
            case 0x1:
                if (body.Length < 12) throw new InvalidDataException("PROXY v2 IPv4 block is short");
                return new IPEndPoint(new IPAddress(body[..4]), BinaryPrimitives.ReadUInt16BigEndian(body[8..]));
            case 0x2:
                if (body.Length < 36) throw new InvalidDataException("PROXY v2 IPv6 block is short");
                return new IPEndPoint(new IPAddress(body[..16]), BinaryPrimitives.ReadUInt16BigEndian(body[32..]));
            case 0x0:
            case 0x3:
                return null; // UNSPEC or AF_UNIX: no IP address to report
            default:
                throw new InvalidDataException("PROXY v2 header has an unknown address family");
        }
    }

    private static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535 && (text == "0" || text[0] != '0');
}
