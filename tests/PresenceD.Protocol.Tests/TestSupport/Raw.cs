using System.Buffers.Binary;
using System.Text;

namespace PresenceD.Protocol.Tests.TestSupport;

/// <summary>Hand-crafted MessagePack: every method writes exactly the format it names, so tests choose the width.</summary>
internal sealed class Raw
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public Raw Bytes(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public Raw Then(Raw other) => Bytes(other.ToArray());

    public Raw FixInt(int value) => Bytes(unchecked((byte)value));
    public Raw U8(byte value) => Bytes(0xcc, value);
    public Raw U16(ushort value) => Code(0xcd).Be16(value);
    public Raw U32(uint value) => Code(0xce).Be32(value);
    public Raw U64(ulong value) => Code(0xcf).Be64(value);
    public Raw I8(sbyte value) => Bytes(0xd0, unchecked((byte)value));
    public Raw I16(short value) => Code(0xd1).Be16(unchecked((ushort)value));
    public Raw I32(int value) => Code(0xd2).Be32(unchecked((uint)value));
    public Raw I64(long value) => Code(0xd3).Be64(unchecked((ulong)value));
    public Raw Nil() => Bytes(0xc0);
    public Raw Bool(bool value) => Bytes(value ? (byte)0xc3 : (byte)0xc2);
    public Raw F32(float value) => Code(0xca).Be32(unchecked((uint)BitConverter.SingleToInt32Bits(value)));
    public Raw F64(double value) => Code(0xcb).Be64(unchecked((ulong)BitConverter.DoubleToInt64Bits(value)));

    public Raw FixStr(string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        if (utf8.Length > 31) throw new ArgumentException("fixstr holds at most 31 bytes");
        return Bytes((byte)(0xa0 | utf8.Length)).Bytes(utf8);
    }

    public Raw Str8(string value) => Str8(Encoding.UTF8.GetBytes(value));
    public Raw Str8(byte[] utf8) => Bytes(0xd9, checked((byte)utf8.Length)).Bytes(utf8);
    public Raw Str16(string value) => Code(0xda).Be16((ushort)Encoding.UTF8.GetByteCount(value)).Bytes(Encoding.UTF8.GetBytes(value));
    public Raw Str32(string value) => Code(0xdb).Be32((uint)Encoding.UTF8.GetByteCount(value)).Bytes(Encoding.UTF8.GetBytes(value));

    /// <summary>The smallest str header for raw (possibly invalid) UTF-8 bytes.</summary>
    public Raw Str(byte[] utf8) => utf8.Length <= 31 ? Bytes((byte)(0xa0 | utf8.Length)).Bytes(utf8) : Str8(utf8);

    public Raw Bin8(byte[] value) => Bytes(0xc4, checked((byte)value.Length)).Bytes(value);
    public Raw Bin16(byte[] value) => Code(0xc5).Be16(checked((ushort)value.Length)).Bytes(value);
    public Raw Bin32(byte[] value) => Code(0xc6).Be32((uint)value.Length).Bytes(value);

    public Raw FixArray(int count) => Bytes((byte)(0x90 | count));
    public Raw Array16(ushort count) => Code(0xdc).Be16(count);
    public Raw Array32(uint count) => Code(0xdd).Be32(count);
    public Raw FixMap(int count) => Bytes((byte)(0x80 | count));
    public Raw Map16(ushort count) => Code(0xde).Be16(count);
    public Raw Map32(uint count) => Code(0xdf).Be32(count);

    public Raw Ext(byte code, sbyte type, byte[] data)
    {
        Code(code);
        switch (code)
        {
            case 0xc7: Bytes(checked((byte)data.Length)); break;
            case 0xc8: Be16(checked((ushort)data.Length)); break;
            case 0xc9: Be32((uint)data.Length); break;
        }
        return Bytes(unchecked((byte)type)).Bytes(data);
    }

    public byte[] ToArray() => [.. _bytes];

    /// <summary>The bytes with a big-endian uint32 length prefix.</summary>
    public byte[] ToFrame() => Frame(ToArray());

    public static byte[] Frame(byte[] body)
    {
        var frame = new byte[body.Length + 4];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    private Raw Code(byte code) => Bytes(code);

    private Raw Be16(ushort value)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, value);
        return Bytes(b);
    }

    private Raw Be32(uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        return Bytes(b);
    }

    private Raw Be64(ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        return Bytes(b);
    }
}
