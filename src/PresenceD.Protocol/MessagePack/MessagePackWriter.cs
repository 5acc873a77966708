using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace PresenceD.Protocol.MessagePack;

/// <summary>
/// A MessagePack writer over any <see cref="IBufferWriter{T}"/>. It writes into one span at a time and
/// advances the output only when the span is full or on <see cref="Flush"/>, so a frame whose size was
/// hinted up front costs one GetSpan and one Advance. Integers use the smallest encoding.
/// </summary>
public ref struct MessagePackWriter
{
    private readonly IBufferWriter<byte> _output;
    private Span<byte> _span;
    private int _position;

    /// <summary>Writes to <paramref name="output"/>; <paramref name="sizeHint"/> is the expected total size.</summary>
    public MessagePackWriter(IBufferWriter<byte> output, int sizeHint = 0)
    {
        _output = output;
        _span = output.GetSpan(sizeHint);
        _position = 0;
    }

    /// <summary>Commits everything written so far to the output. Call once at the end.</summary>
    public void Flush()
    {
        _output.Advance(_position);
        _span = default;
        _position = 0;
    }

    /// <summary>Writes an array header.</summary>
    public void WriteArrayHeader(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        Span<byte> s = Reserve(5);
        if (count <= 15) { s[0] = (byte)(MessagePackCode.MinFixArray | count); _position += 1; }
        else if (count <= ushort.MaxValue) { s[0] = MessagePackCode.Array16; BinaryPrimitives.WriteUInt16BigEndian(s.Slice(1), (ushort)count); _position += 3; }
        else { s[0] = MessagePackCode.Array32; BinaryPrimitives.WriteUInt32BigEndian(s.Slice(1), (uint)count); _position += 5; }
    }

    /// <summary>Writes a map header.</summary>
    public void WriteMapHeader(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        Span<byte> s = Reserve(5);
        if (count <= 15) { s[0] = (byte)(MessagePackCode.MinFixMap | count); _position += 1; }
        else if (count <= ushort.MaxValue) { s[0] = MessagePackCode.Map16; BinaryPrimitives.WriteUInt16BigEndian(s.Slice(1), (ushort)count); _position += 3; }
        else { s[0] = MessagePackCode.Map32; BinaryPrimitives.WriteUInt32BigEndian(s.Slice(1), (uint)count); _position += 5; }
    }

    /// <summary>Writes nil.</summary>
    public void WriteNil()
    {
        Reserve(1)[0] = MessagePackCode.Nil;
        _position += 1;
    }

    /// <summary>Writes true or false.</summary>
    public void WriteBoolean(bool value)
    {
        Reserve(1)[0] = value ? MessagePackCode.True : MessagePackCode.False;
        _position += 1;
    }

    /// <summary>Writes a signed integer in its smallest encoding (non-negative values as uint formats).</summary>
    public void WriteInt64(long value)
    {
        if (value >= 0)
        {
            WriteUInt64((ulong)value);
            return;
        }
        Span<byte> s = Reserve(9);
        if (value >= -32) { s[0] = unchecked((byte)value); _position += 1; }
        else if (value >= sbyte.MinValue) { s[0] = MessagePackCode.Int8; s[1] = unchecked((byte)value); _position += 2; }
        else if (value >= short.MinValue) { s[0] = MessagePackCode.Int16; BinaryPrimitives.WriteInt16BigEndian(s.Slice(1), (short)value); _position += 3; }
        else if (value >= int.MinValue) { s[0] = MessagePackCode.Int32; BinaryPrimitives.WriteInt32BigEndian(s.Slice(1), (int)value); _position += 5; }
        else { s[0] = MessagePackCode.Int64; BinaryPrimitives.WriteInt64BigEndian(s.Slice(1), value); _position += 9; }
    }

    /// <summary>Writes an unsigned integer in its smallest encoding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteUInt64(ulong value)
    {
        Span<byte> s = Reserve(9);
        if (value <= MessagePackCode.MaxPositiveFixInt) { s[0] = (byte)value; _position += 1; }
        else if (value <= byte.MaxValue) { s[0] = MessagePackCode.UInt8; s[1] = (byte)value; _position += 2; }
        else if (value <= ushort.MaxValue) { s[0] = MessagePackCode.UInt16; BinaryPrimitives.WriteUInt16BigEndian(s.Slice(1), (ushort)value); _position += 3; }
        else if (value <= uint.MaxValue) { s[0] = MessagePackCode.UInt32; BinaryPrimitives.WriteUInt32BigEndian(s.Slice(1), (uint)value); _position += 5; }
        else { s[0] = MessagePackCode.UInt64; BinaryPrimitives.WriteUInt64BigEndian(s.Slice(1), value); _position += 9; }
    }

    /// <summary>Writes a float64.</summary>
    public void WriteDouble(double value)
    {
        Span<byte> s = Reserve(9);
        s[0] = MessagePackCode.Float64;
        BinaryPrimitives.WriteInt64BigEndian(s.Slice(1), BitConverter.DoubleToInt64Bits(value));
        _position += 9;
    }

    /// <summary>Writes a float32.</summary>
    public void WriteSingle(float value)
    {
        Span<byte> s = Reserve(5);
        s[0] = MessagePackCode.Float32;
        BinaryPrimitives.WriteInt32BigEndian(s.Slice(1), BitConverterCompat.SingleToInt32Bits(value));
        _position += 5;
    }

    /// <summary>Writes a str from a .NET string (encoded to UTF-8 in place, no allocation).</summary>
    public void WriteString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        WriteStringHeader(length);
        Span<byte> s = Reserve(length);
        Encoding.UTF8.GetBytes(value.AsSpan(), s);
        _position += length;
    }

    /// <summary>Writes a str from bytes that are already UTF-8.</summary>
    public void WriteString(ReadOnlySpan<byte> utf8)
    {
        WriteStringHeader(utf8.Length);
        WriteRaw(utf8);
    }

    /// <summary>Writes a str from a sequence of UTF-8 bytes.</summary>
    public void WriteString(in ReadOnlySequence<byte> utf8)
    {
        WriteStringHeader(checked((int)utf8.Length));
        WriteRaw(utf8);
    }

    /// <summary>Writes a str header for <paramref name="byteCount"/> bytes that the caller writes next.</summary>
    public void WriteStringHeader(int byteCount)
    {
        Span<byte> s = Reserve(5);
        if (byteCount <= 31) { s[0] = (byte)(MessagePackCode.MinFixStr | byteCount); _position += 1; }
        else if (byteCount <= byte.MaxValue) { s[0] = MessagePackCode.Str8; s[1] = (byte)byteCount; _position += 2; }
        else if (byteCount <= ushort.MaxValue) { s[0] = MessagePackCode.Str16; BinaryPrimitives.WriteUInt16BigEndian(s.Slice(1), (ushort)byteCount); _position += 3; }
        else { s[0] = MessagePackCode.Str32; BinaryPrimitives.WriteUInt32BigEndian(s.Slice(1), (uint)byteCount); _position += 5; }
    }

    /// <summary>Writes a bin.</summary>
    public void WriteBinary(ReadOnlySpan<byte> value)
    {
        WriteBinaryHeader(value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes a bin from a sequence.</summary>
    public void WriteBinary(in ReadOnlySequence<byte> value)
    {
        WriteBinaryHeader(checked((int)value.Length));
        WriteRaw(value);
    }

    /// <summary>Writes a bin header for <paramref name="byteCount"/> bytes that the caller writes next.</summary>
    public void WriteBinaryHeader(int byteCount)
    {
        Span<byte> s = Reserve(5);
        if (byteCount <= byte.MaxValue) { s[0] = MessagePackCode.Bin8; s[1] = (byte)byteCount; _position += 2; }
        else if (byteCount <= ushort.MaxValue) { s[0] = MessagePackCode.Bin16; BinaryPrimitives.WriteUInt16BigEndian(s.Slice(1), (ushort)byteCount); _position += 3; }
        else { s[0] = MessagePackCode.Bin32; BinaryPrimitives.WriteUInt32BigEndian(s.Slice(1), (uint)byteCount); _position += 5; }
    }

    /// <summary>Writes a big-endian uint32 (the frame length prefix).</summary>
    public void WriteBigEndianUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), value);
        _position += 4;
    }

    /// <summary>Copies raw bytes (already MessagePack, or the bytes after a header).</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            if (_span.Length - _position == 0) Grow(Math.Min(bytes.Length, 4096));
            int n = Math.Min(bytes.Length, _span.Length - _position);
            bytes.Slice(0, n).CopyTo(_span.Slice(_position));
            _position += n;
            bytes = bytes.Slice(n);
        }
    }

    /// <summary>Copies raw bytes from a sequence.</summary>
    public void WriteRaw(in ReadOnlySequence<byte> bytes)
    {
        foreach (ReadOnlyMemory<byte> segment in bytes) WriteRaw(segment.Span);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int size)
    {
        if (_span.Length - _position < size) Grow(size);
        return _span.Slice(_position);
    }

    private void Grow(int size)
    {
        _output.Advance(_position);
        _position = 0;
        _span = _output.GetSpan(size);
        if (_span.Length < size) throw new InvalidOperationException("the output returned a span smaller than asked");
    }
}
