using System;
using System.Buffers;
using System.Buffers.Binary;

namespace PresenceD.Protocol.Framing;

/// <summary>
/// Splits a byte stream into frames: a big-endian uint32 body length, then the body. A declared length of
/// 0 or over the limit is rejected as soon as the prefix is seen, without waiting for (or buffering) the body.
/// </summary>
public static class FrameReader
{
    /// <summary>
    /// Takes one frame off the front of <paramref name="buffer"/>. Returns <see cref="FrameStatus.NeedMore"/>
    /// (buffer untouched) until the whole frame is there; throws <see cref="ProtocolException"/> for a bad length.
    /// </summary>
    public static FrameStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxFrame, out ReadOnlySequence<byte> body)
    {
        body = default;
        if (buffer.Length < ProtocolConstants.LengthPrefixSize) return FrameStatus.NeedMore;
        uint length = ReadLength(buffer);
        if (length == 0) throw new ProtocolException("frame length 0");
        if (length > (uint)maxFrame) throw new ProtocolException($"frame length {length} over max_frame {maxFrame}");
        if (buffer.Length - ProtocolConstants.LengthPrefixSize < length) return FrameStatus.NeedMore;
        body = buffer.Slice(ProtocolConstants.LengthPrefixSize, length);
        buffer = buffer.Slice(body.End);
        return FrameStatus.Complete;
    }

    private static uint ReadLength(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan();
        if (first.Length >= ProtocolConstants.LengthPrefixSize) return BinaryPrimitives.ReadUInt32BigEndian(first);
        Span<byte> prefix = stackalloc byte[ProtocolConstants.LengthPrefixSize];
        buffer.Slice(0, ProtocolConstants.LengthPrefixSize).CopyTo(prefix);
        return BinaryPrimitives.ReadUInt32BigEndian(prefix);
    }

    private static ReadOnlySpan<byte> FirstSpan(this in ReadOnlySequence<byte> buffer) => buffer.First.Span;
}
