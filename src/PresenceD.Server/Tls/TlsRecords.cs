using System.Buffers;

namespace PresenceD.Server.Tls;

/// <summary>What the first bytes of a TLS connection look like (RFC 8446 5.1), to tell TLS from plain frames.</summary>
internal static class TlsRecords
{
    /// <summary>The content type of a handshake record, the first byte a TLS client sends.</summary>
    public const byte HandshakeRecord = 0x16;

    private const byte ClientHello = 0x01;

    /// <summary>
    /// True when <paramref name="bytes"/> start as a TLS ClientHello: a handshake record of version 3.x (SSL 3 to
    /// TLS 1.3 all say 3) whose first message is a ClientHello, as far as the bytes reach. A plain frame never starts
    /// so: its length would be at least 369 MB, over any max_frame.
    /// </summary>
    public static bool StartsWithClientHello(in ReadOnlySequence<byte> bytes)
    {
        Span<byte> head = stackalloc byte[6];
        int length = (int)Math.Min(bytes.Length, head.Length);
        bytes.Slice(0, length).CopyTo(head);
        if (length < 3 || head[0] != HandshakeRecord || head[1] != 3 || head[2] > 4) return false;
        return length < 6 || head[5] == ClientHello;
    }
}
