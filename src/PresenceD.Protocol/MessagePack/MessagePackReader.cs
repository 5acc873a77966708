using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace PresenceD.Protocol.MessagePack;

/// <summary>
/// A strict MessagePack reader over a complete <see cref="ReadOnlySequence{T}"/> (values may span
/// segments). Anything malformed, truncated or of the wrong type throws <see cref="ProtocolException"/>;
/// lengths are checked against the bytes that remain before anything is sliced, so a hostile declared
/// length costs nothing. Strings and binaries are returned as slices of the input, never copied.
/// </summary>
public ref struct MessagePackReader
{
    private SequenceReader<byte> _reader;

    /// <summary>Reads from <paramref name="input"/>.</summary>
    public MessagePackReader(ReadOnlySequence<byte> input) => _reader = new SequenceReader<byte>(input);

    /// <summary>Bytes consumed so far.</summary>
    public readonly long Consumed => _reader.Consumed;

    /// <summary>Bytes left.</summary>
    public readonly long Remaining => _reader.Remaining;

    /// <summary>True when every byte has been read.</summary>
    public readonly bool End => _reader.End;

    /// <summary>The input from byte <paramref name="start"/> (a former <see cref="Consumed"/>) up to here.</summary>
    public readonly ReadOnlySequence<byte> SliceFrom(long start) => _reader.Sequence.Slice(start, _reader.Consumed - start);

    /// <summary>The kind of the next value, without consuming it.</summary>
    public readonly MessagePackType PeekType()
    {
        if (!_reader.TryPeek(out byte code)) throw Truncated();
        return TypeOf(code);
    }

    /// <summary>True when the next value is nil (not consumed).</summary>
    public readonly bool IsNil => _reader.TryPeek(out byte code) && code == MessagePackCode.Nil;

    /// <summary>Consumes a nil and returns true, or returns false and consumes nothing.</summary>
    public bool TryReadNil()
    {
        if (!IsNil) return false;
        _reader.Advance(1);
        return true;
    }

    /// <summary>Reads nil.</summary>
    public void ReadNil()
    {
        if (!TryReadNil()) throw WrongType("nil");
    }

    /// <summary>Reads true or false.</summary>
    public bool ReadBoolean()
    {
        byte code = ReadCode();
        return code switch
        {
            MessagePackCode.True => true,
            MessagePackCode.False => false,
            _ => throw WrongType("bool", code),
        };
    }

    /// <summary>Reads an array header (fixarray, array16, array32) and returns the element count.</summary>
    public int ReadArrayHeader()
    {
        byte code = ReadCode();
        long count;
        if (code >= MessagePackCode.MinFixArray && code <= MessagePackCode.MaxFixArray) count = code & 0x0f;
        else if (code == MessagePackCode.Array16) count = ReadBigEndian16();
        else if (code == MessagePackCode.Array32) count = ReadBigEndian32();
        else throw WrongType("array", code);
        // Every element takes at least one byte: a larger count is a lie, whatever follows.
        if (count > _reader.Remaining) throw new ProtocolException($"array of {count} elements with {_reader.Remaining} bytes left");
        return (int)count;
    }

    /// <summary>Reads a map header and returns the number of key/value pairs.</summary>
    public int ReadMapHeader()
    {
        byte code = ReadCode();
        long count;
        if (code >= MessagePackCode.MinFixMap && code <= MessagePackCode.MaxFixMap) count = code & 0x0f;
        else if (code == MessagePackCode.Map16) count = ReadBigEndian16();
        else if (code == MessagePackCode.Map32) count = ReadBigEndian32();
        else throw WrongType("map", code);
        if (count * 2 > _reader.Remaining) throw new ProtocolException($"map of {count} pairs with {_reader.Remaining} bytes left");
        return (int)count;
    }

    /// <summary>Reads any int or uint encoding whose value fits in a long.</summary>
    public long ReadInt64()
    {
        byte code = ReadCode();
        if (code <= MessagePackCode.MaxPositiveFixInt) return code;
        if (code >= MessagePackCode.MinNegativeFixInt) return (sbyte)code;
        switch (code)
        {
            case MessagePackCode.UInt8: return ReadByte();
            case MessagePackCode.UInt16: return ReadBigEndian16();
            case MessagePackCode.UInt32: return ReadBigEndian32();
            case MessagePackCode.UInt64:
                ulong u = ReadBigEndian64();
                if (u > long.MaxValue) throw new ProtocolException($"integer {u} out of range");
                return (long)u;
            case MessagePackCode.Int8: return (sbyte)ReadByte();
            case MessagePackCode.Int16: return (short)ReadBigEndian16();
            case MessagePackCode.Int32: return (int)ReadBigEndian32();
            case MessagePackCode.Int64: return (long)ReadBigEndian64();
            default: throw WrongType("integer", code);
        }
    }

    /// <summary>Reads any int or uint encoding of a non-negative value.</summary>
    public ulong ReadUInt64()
    {
        if (_reader.TryPeek(out byte code) && code == MessagePackCode.UInt64)
        {
            _reader.Advance(1);
            return ReadBigEndian64();
        }
        long value = ReadInt64();
        if (value < 0) throw new ProtocolException($"expected an unsigned integer, got {value}");
        return (ulong)value;
    }

    /// <summary>Reads an integer in 0..uint.MaxValue (e.g. a rid).</summary>
    public uint ReadUInt32()
    {
        ulong value = ReadUInt64();
        if (value > uint.MaxValue) throw new ProtocolException($"integer {value} does not fit in uint32");
        return (uint)value;
    }

    /// <summary>Reads an integer in int.MinValue..int.MaxValue.</summary>
    public int ReadInt32()
    {
        long value = ReadInt64();
        if (value < int.MinValue || value > int.MaxValue) throw new ProtocolException($"integer {value} does not fit in int32");
        return (int)value;
    }

    /// <summary>Reads float32 or float64 (or an integer, widened).</summary>
    public double ReadDouble()
    {
        if (!_reader.TryPeek(out byte code)) throw Truncated();
        if (code == MessagePackCode.Float32)
        {
            _reader.Advance(1);
            return BitConverterCompat.Int32BitsToSingle((int)ReadBigEndian32());
        }
        if (code == MessagePackCode.Float64)
        {
            _reader.Advance(1);
            return BitConverter.Int64BitsToDouble((long)ReadBigEndian64());
        }
        return ReadInt64();
    }

    /// <summary>Reads a str and returns its UTF-8 bytes as a slice of the input (not validated).</summary>
    public ReadOnlySequence<byte> ReadStringSequence()
    {
        byte code = ReadCode();
        long length;
        if (code >= MessagePackCode.MinFixStr && code <= MessagePackCode.MaxFixStr) length = code & 0x1f;
        else if (code == MessagePackCode.Str8) length = ReadByte();
        else if (code == MessagePackCode.Str16) length = ReadBigEndian16();
        else if (code == MessagePackCode.Str32) length = ReadBigEndian32();
        else throw WrongType("str", code);
        return Slice(length);
    }

    /// <summary>Reads a str and decodes it (invalid UTF-8 is replaced, not thrown; validate first where it matters).</summary>
    public string ReadString()
    {
        ReadOnlySequence<byte> bytes = ReadStringSequence();
        return Utf8.GetString(bytes);
    }

    /// <summary>Reads a bin and returns it as a slice of the input.</summary>
    public ReadOnlySequence<byte> ReadBinarySequence()
    {
        byte code = ReadCode();
        long length = code switch
        {
            MessagePackCode.Bin8 => ReadByte(),
            MessagePackCode.Bin16 => ReadBigEndian16(),
            MessagePackCode.Bin32 => ReadBigEndian32(),
            _ => throw WrongType("bin", code),
        };
        return Slice(length);
    }

    /// <summary>Skips one value of any type, nested ones included, to a bounded depth.</summary>
    public void Skip() => Skip(0);

    private void Skip(int depth)
    {
        if (depth >= ProtocolConstants.MaxSkipDepth) throw new ProtocolException($"nesting deeper than {ProtocolConstants.MaxSkipDepth}");
        if (!_reader.TryPeek(out byte code)) throw Truncated();
        switch (TypeOf(code))
        {
            case MessagePackType.Integer: ReadInt64OrUInt64(); return;
            case MessagePackType.Nil:
            case MessagePackType.Boolean: _reader.Advance(1); return;
            case MessagePackType.Float: ReadDouble(); return;
            case MessagePackType.String: ReadStringSequence(); return;
            case MessagePackType.Binary: ReadBinarySequence(); return;
            case MessagePackType.Array:
                for (int i = ReadArrayHeader(); i > 0; i--) Skip(depth + 1);
                return;
            case MessagePackType.Map:
                for (int i = ReadMapHeader() * 2; i > 0; i--) Skip(depth + 1);
                return;
            case MessagePackType.Extension: SkipExtension(); return;
            default: throw WrongType("a MessagePack value", code);
        }
    }

    private void ReadInt64OrUInt64()
    {
        if (_reader.TryPeek(out byte code) && code == MessagePackCode.UInt64) ReadUInt64();
        else ReadInt64();
    }

    private void SkipExtension()
    {
        byte code = ReadCode();
        long length = code switch
        {
            MessagePackCode.FixExt1 => 1,
            MessagePackCode.FixExt2 => 2,
            MessagePackCode.FixExt4 => 4,
            MessagePackCode.FixExt8 => 8,
            MessagePackCode.FixExt16 => 16,
            MessagePackCode.Ext8 => ReadByte(),
            MessagePackCode.Ext16 => ReadBigEndian16(),
            MessagePackCode.Ext32 => ReadBigEndian32(),
            _ => throw WrongType("ext", code),
        };
        Slice(length + 1); // the type byte, then the data
    }

    /// <summary>The kind of value a format byte starts.</summary>
    public static MessagePackType TypeOf(byte code)
    {
        if (code <= MessagePackCode.MaxPositiveFixInt || code >= MessagePackCode.MinNegativeFixInt) return MessagePackType.Integer;
        if (code <= MessagePackCode.MaxFixMap) return MessagePackType.Map;
        if (code <= MessagePackCode.MaxFixArray) return MessagePackType.Array;
        if (code <= MessagePackCode.MaxFixStr) return MessagePackType.String;
        return code switch
        {
            MessagePackCode.Nil => MessagePackType.Nil,
            MessagePackCode.False or MessagePackCode.True => MessagePackType.Boolean,
            MessagePackCode.Bin8 or MessagePackCode.Bin16 or MessagePackCode.Bin32 => MessagePackType.Binary,
            MessagePackCode.Ext8 or MessagePackCode.Ext16 or MessagePackCode.Ext32 or MessagePackCode.FixExt1 or MessagePackCode.FixExt2
                or MessagePackCode.FixExt4 or MessagePackCode.FixExt8 or MessagePackCode.FixExt16 => MessagePackType.Extension,
            MessagePackCode.Float32 or MessagePackCode.Float64 => MessagePackType.Float,
            >= MessagePackCode.UInt8 and <= MessagePackCode.Int64 => MessagePackType.Integer,
            MessagePackCode.Str8 or MessagePackCode.Str16 or MessagePackCode.Str32 => MessagePackType.String,
            MessagePackCode.Array16 or MessagePackCode.Array32 => MessagePackType.Array,
            MessagePackCode.Map16 or MessagePackCode.Map32 => MessagePackType.Map,
            _ => MessagePackType.Unknown,
        };
    }

    private ReadOnlySequence<byte> Slice(long length)
    {
        if (length > _reader.Remaining) throw new ProtocolException($"length {length} exceeds the {_reader.Remaining} bytes left");
        ReadOnlySequence<byte> slice = _reader.Sequence.Slice(_reader.Position, length);
        _reader.Advance(length);
        return slice;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte ReadCode()
    {
        if (!_reader.TryRead(out byte code)) throw Truncated();
        return code;
    }

    private byte ReadByte() => ReadCode();

    private ushort ReadBigEndian16()
    {
        if (!_reader.TryReadBigEndian(out short value)) throw Truncated();
        return (ushort)value;
    }

    private uint ReadBigEndian32()
    {
        if (!_reader.TryReadBigEndian(out int value)) throw Truncated();
        return (uint)value;
    }

    private ulong ReadBigEndian64()
    {
        if (!_reader.TryReadBigEndian(out long value)) throw Truncated();
        return (ulong)value;
    }

    private static ProtocolException Truncated() => new("truncated MessagePack value");

    private readonly ProtocolException WrongType(string expected) =>
        _reader.TryPeek(out byte code) ? WrongType(expected, code) : Truncated();

    private static ProtocolException WrongType(string expected, byte code) =>
        new($"expected {expected}, got {TypeOf(code)} (0x{code:x2})");
}
