using System.Buffers.Binary;
using System.Text;

namespace PresenceD.Server.Backplane;

/// <summary>What a room channel carries; the first byte of every envelope.</summary>
internal enum EnvelopeKind : byte
{
    /// <summary>A MESSAGE frame, encoded once by the publishing node and fanned out as is.</summary>
    Message = 1,
    /// <summary>A member joined or changed its meta (absolute state: receivers apply it idempotently).</summary>
    Upsert = 2,
    /// <summary>A member left (LEAVE, BYE, or vanished; then a will frame may ride along).</summary>
    Leave = 3,
    /// <summary>A MESSAGE frame of a history room, its offset assigned by Redis; the origin applies its own echo too.</summary>
    HistoryMessage = 4,
    /// <summary>A session's membership arrived on the origin node from another (body: conn id): the cut of a hand-over.</summary>
    CutMark = 5,
    /// <summary>The old node released that membership at the mark (body: conn id).</summary>
    CutAck = 6,
}

/// <summary>A decoded member event (Upsert or Leave).</summary>
internal readonly record struct MemberEvent(string User, string Conn, byte[]? Meta, byte[]? WillFrame);

/// <summary>
/// The small binary envelope on a room's pub/sub channel: kind, origin node id (so a node drops its own
/// echoes), then the body. The same Leave layout (with the member's will) is what the presence hash
/// stores per connection, so the sweep script can publish a vanished member's leave verbatim.
/// Layout: kind u8 | origin len u8 | origin | body. Member body: user len u16 | user | conn len u16 | conn |
/// meta len i32 (-1 = nil) | meta | will len i32 (-1 = none) | will MESSAGE frame.
/// </summary>
internal static class Envelope
{
    public static byte[] ForFrame(EnvelopeKind kind, byte[] origin, ReadOnlySpan<byte> frame)
    {
        var bytes = new byte[2 + origin.Length + frame.Length];
        bytes[0] = (byte)kind;
        bytes[1] = (byte)origin.Length;
        origin.CopyTo(bytes, 2);
        frame.CopyTo(bytes.AsSpan(2 + origin.Length));
        return bytes;
    }

    public static byte[] ForMember(EnvelopeKind kind, byte[] origin, string user, string conn, byte[]? meta, ReadOnlySpan<byte> willFrame, bool hasWill)
    {
        int userLength = Encoding.UTF8.GetByteCount(user);
        int connLength = Encoding.UTF8.GetByteCount(conn);
        var bytes = new byte[2 + origin.Length + 2 + userLength + 2 + connLength + 4 + (meta?.Length ?? 0) + 4 + (hasWill ? willFrame.Length : 0)];
        bytes[0] = (byte)kind;
        bytes[1] = (byte)origin.Length;
        origin.CopyTo(bytes, 2);
        Span<byte> rest = bytes.AsSpan(2 + origin.Length);
        BinaryPrimitives.WriteUInt16BigEndian(rest, (ushort)userLength);
        Encoding.UTF8.GetBytes(user, rest[2..]);
        rest = rest[(2 + userLength)..];
        BinaryPrimitives.WriteUInt16BigEndian(rest, (ushort)connLength);
        Encoding.UTF8.GetBytes(conn, rest[2..]);
        rest = rest[(2 + connLength)..];
        BinaryPrimitives.WriteInt32BigEndian(rest, meta is null ? -1 : meta.Length);
        meta?.CopyTo(rest[4..]);
        rest = rest[(4 + (meta?.Length ?? 0))..];
        BinaryPrimitives.WriteInt32BigEndian(rest, hasWill ? willFrame.Length : -1);
        if (hasWill) willFrame.CopyTo(rest[4..]);
        return bytes;
    }

    /// <summary>A cut envelope (<see cref="EnvelopeKind.CutMark"/> or <see cref="EnvelopeKind.CutAck"/>): the body is the conn id.</summary>
    public static byte[] ForCut(EnvelopeKind kind, byte[] origin, string conn) => ForFrame(kind, origin, Encoding.UTF8.GetBytes(conn));

    public static EnvelopeKind KindOf(ReadOnlySpan<byte> envelope) => (EnvelopeKind)envelope[0];

    public static ReadOnlySpan<byte> Origin(ReadOnlySpan<byte> envelope) => envelope.Slice(2, envelope[1]);

    public static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> envelope) => envelope[(2 + envelope[1])..];

    /// <summary>Decodes a member body; throws <see cref="FormatException"/> on truncated input.</summary>
    public static MemberEvent ReadMember(ReadOnlySpan<byte> body)
    {
        try
        {
            int userLength = BinaryPrimitives.ReadUInt16BigEndian(body);
            string user = Encoding.UTF8.GetString(body.Slice(2, userLength));
            body = body[(2 + userLength)..];
            int connLength = BinaryPrimitives.ReadUInt16BigEndian(body);
            string conn = Encoding.UTF8.GetString(body.Slice(2, connLength));
            body = body[(2 + connLength)..];
            byte[]? meta = ReadBlock(ref body);
            byte[]? will = ReadBlock(ref body);
            return new MemberEvent(user, conn, meta, will);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new FormatException("truncated member envelope", e);
        }
    }

    private static byte[]? ReadBlock(ref ReadOnlySpan<byte> body)
    {
        int length = BinaryPrimitives.ReadInt32BigEndian(body);
        if (length < 0)
        {
            body = body[4..];
            return null;
        }
        byte[] block = body.Slice(4, length).ToArray();
        body = body[(4 + length)..];
        return block;
    }
}
