using System.Buffers;
using PresenceD.Protocol.Messages;
using PresenceD.Protocol.Tests.TestSupport;
using static PresenceD.Protocol.Tests.TestSupport.Encoded;

namespace PresenceD.Protocol.Tests.Messages;

/// <summary>Hand-crafted frames: both decoders accept every MessagePack encoding the spec allows, in every field.</summary>
public sealed class DecoderWidthTests
{
    public static TheoryData<string, uint> Rids => new()
    {
        { "fixint", 7 }, { "uint8", 200 }, { "uint16", 60_000 }, { "uint32", 4_000_000_000 }, { "uint64", 7 },
        { "int8", 7 }, { "int16", 7 }, { "int32", 7 }, { "int64", 4_000_000_000 },
    };

    public static TheoryData<string> StrWidths => new() { "fixstr", "str8", "str16", "str32" };
    public static TheoryData<string> BinWidths => new() { "bin8", "bin16", "bin32" };
    public static TheoryData<string> ArrayWidths => new() { "fixarray", "array16", "array32" };

    [Theory]
    [MemberData(nameof(Rids))]
    public void Rid_in_any_integer_width(string width, uint rid)
    {
        ClientRequest r = DecodeClient(new Raw().FixArray(2).FixInt(8).Then(Int(width, rid)).ToArray());
        Assert.Equal(OpCode.Ping, r.Op);
        Assert.Equal(rid, r.Rid);
        Assert.Equal(rid, Assert.IsType<OkMessage>(DecodeServer(new Raw().FixArray(2).FixInt(65).Then(Int(width, rid)).ToArray())).Rid);
    }

    [Theory]
    [InlineData("uint8")]
    [InlineData("uint16")]
    [InlineData("uint32")]
    [InlineData("uint64")]
    [InlineData("int8")]
    [InlineData("int16")]
    [InlineData("int32")]
    [InlineData("int64")]
    public void Op_in_any_integer_width(string width)
    {
        Assert.Equal(OpCode.Ping, DecodeClient(new Raw().FixArray(2).Then(Int(width, 8)).FixInt(1).ToArray()).Op);
        Assert.IsType<PongMessage>(DecodeServer(new Raw().FixArray(2).Then(Int(width, 72)).FixInt(1).ToArray()));
    }

    [Theory]
    [MemberData(nameof(StrWidths))]
    public void Room_and_strings_in_any_str_width(string width)
    {
        ClientRequest r = DecodeClient(new Raw().FixArray(3).FixInt(3).FixInt(1).Then(Str(width, SampleFrames.UnicodeRoom)).ToArray());
        Assert.Equal(SampleFrames.UnicodeRoom, Text(r.Room));
        ErrorMessage e = Assert.IsType<ErrorMessage>(DecodeServer(new Raw().FixArray(4).FixInt(66).FixInt(1).FixInt(4)
            .Then(Str(width, "forbidden")).ToArray()));
        Assert.Equal("forbidden", e.Text);
    }

    [Theory]
    [MemberData(nameof(BinWidths))]
    public void Payload_meta_and_will_in_any_bin_width(string width)
    {
        byte[] payload = Pattern(64);
        ClientRequest publish = DecodeClient(new Raw().FixArray(4).FixInt(4).FixInt(1).FixStr("r").Then(Bin(width, payload)).ToArray());
        Assert.Equal(payload, publish.Payload.ToArray());
        ClientRequest join = DecodeClient(new Raw().FixArray(6).FixInt(2).FixInt(1).FixStr("r").Then(Bin(width, [1]))
            .Nil().Then(Bin(width, [2])).ToArray());
        Assert.Equal(new byte[] { 1 }, join.Meta.ToArray());
        Assert.Equal(new byte[] { 2 }, join.Will.ToArray());
        Assert.True(ServerMessageDecoder.TryReadMessage(new ReadOnlySequence<byte>(new Raw().FixArray(6).FixInt(70).FixStr("r").FixStr("u")
            .FixStr("c").Then(Bin(width, payload)).FixInt(0).ToArray()), out MessageView view));
        Assert.Equal(payload, view.Payload.ToArray());
    }

    [Theory]
    [MemberData(nameof(ArrayWidths))]
    public void Frame_since_and_user_arrays_in_any_array_width(string width)
    {
        ClientRequest join = DecodeClient(Array(width, 5).FixInt(2).FixInt(1).FixStr("r").Nil()
            .Then(Array(width, 2)).FixStr("ep").U64(1UL << 52).ToArray());
        Assert.True(join.HasSince);
        Assert.Equal(1UL << 52, join.SinceOffset);

        ClientRequest online = DecodeClient(Array(width, 3).FixInt(10).FixInt(1).Then(Array(width, 2)).Str8("a").Str16("b").ToArray());
        var users = new List<string>();
        foreach (ReadOnlySequence<byte> user in online.EnumerateUsers()) users.Add(Text(user));
        Assert.Equal(new[] { "a", "b" }, users);
    }

    [Theory]
    [MemberData(nameof(ArrayWidths))]
    public void Member_lists_and_members_in_any_array_width(string width)
    {
        byte[] body = Array(width, 5).FixInt(68).U16(9).Str32("room").Then(Array(width, 2))
            .Then(Array(width, 3)).Str8("u1").Str16("c1").Bin16([7])
            .Then(Array(width, 3)).FixStr("u2").FixStr("c2").Nil()
            .I16(2).ToArray();
        PresenceStateMessage m = Assert.IsType<PresenceStateMessage>(DecodeServer(body));
        Assert.Equal(9u, m.Rid);
        Assert.Equal("room", m.Room);
        Assert.Equal(new Member("u1", "c1", null) with { Meta = m.Members[0].Meta }, m.Members[0]);
        Assert.Equal(new byte[] { 7 }, m.Members[0].Meta);
        Assert.Equal(new Member("u2", "c2", null), m.Members[1]);
        Assert.Equal(2, m.Total);
    }

    public static TheoryData<string, string> TrailingValues => new()
    {
        { "map16", "de0001a16b01" }, { "map32", "df00000002a16101a162c0" }, { "fixmap", "80" },
        { "float32", "ca3fc00000" }, { "float64", "cb3ff8000000000000" },
        { "fixext1", "d40501" }, { "fixext16", "d805000102030405060708090a0b0c0d0e0f" },
        { "ext8", "c70205abcd" }, { "ext16", "c8000205abcd" }, { "ext32", "c90000000205abcd" },
        { "bool", "c3" }, { "nested", "92dc000190c0" }, { "uint64-max", "cfffffffffffffffff" },
    };

    [Theory]
    [MemberData(nameof(TrailingValues))]
    public void Values_of_any_type_are_skipped_as_trailing_elements(string kind, string hex)
    {
        byte[] extra = Convert.FromHexString(hex);
        ClientRequest r = DecodeClient(new Raw().FixArray(5).FixInt(4).FixInt(3).FixStr("r").Bin8([1]).Bytes(extra).ToArray());
        Assert.True(r.Payload.Length == 1, kind);
        Assert.True(ServerMessageDecoder.TryReadMessage(new ReadOnlySequence<byte>(new Raw().FixArray(7).FixInt(70).FixStr("r").FixStr("u")
            .FixStr("c").Bin8([1]).FixInt(5).Bytes(extra).ToArray()), out MessageView view));
        Assert.Equal(5UL, view.Offset);
        Assert.IsType<PongMessage>(DecodeServer(new Raw().FixArray(3).FixInt(72).FixInt(1).Bytes(extra).ToArray()));
    }

    internal static Raw Int(string width, uint value) => width switch
    {
        "fixint" => new Raw().FixInt((int)value),
        "uint8" => new Raw().U8((byte)value),
        "uint16" => new Raw().U16((ushort)value),
        "uint32" => new Raw().U32(value),
        "uint64" => new Raw().U64(value),
        "int8" => new Raw().I8((sbyte)value),
        "int16" => new Raw().I16((short)value),
        "int32" => new Raw().I32((int)value),
        _ => new Raw().I64(value),
    };

    private static Raw Str(string width, string value) => width switch
    {
        "fixstr" => new Raw().FixStr(value),
        "str8" => new Raw().Str8(value),
        "str16" => new Raw().Str16(value),
        _ => new Raw().Str32(value),
    };

    private static Raw Bin(string width, byte[] value) => width switch
    {
        "bin8" => new Raw().Bin8(value),
        "bin16" => new Raw().Bin16(value),
        _ => new Raw().Bin32(value),
    };

    private static Raw Array(string width, int count) => width switch
    {
        "fixarray" => new Raw().FixArray(count),
        "array16" => new Raw().Array16((ushort)count),
        _ => new Raw().Array32((uint)count),
    };
}
