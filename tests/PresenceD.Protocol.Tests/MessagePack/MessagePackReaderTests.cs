using System.Buffers;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Tests.TestSupport;

namespace PresenceD.Protocol.Tests.MessagePack;

/// <summary>The reader accepts every MessagePack width of a value (PROTOCOL.md) and rejects what does not fit.</summary>
public sealed class MessagePackReaderTests
{
    public static TheoryData<string, long> Integers => new()
    {
        { "00", 0 }, { "7f", 127 }, { "ff", -1 }, { "e0", -32 },
        { "cc00", 0 }, { "ccff", 255 },
        { "cd0000", 0 }, { "cdffff", 65535 },
        { "ce00000005", 5 }, { "ceffffffff", uint.MaxValue },
        { "cf0000000000000005", 5 }, { "cf7fffffffffffffff", long.MaxValue },
        { "d005", 5 }, { "d080", -128 },
        { "d10005", 5 }, { "d18000", short.MinValue },
        { "d200000005", 5 }, { "d280000000", int.MinValue },
        { "d30000000000000005", 5 }, { "d38000000000000000", long.MinValue },
    };

    [Theory]
    [MemberData(nameof(Integers))]
    public void ReadInt64_accepts_every_width(string hex, long expected)
    {
        var reader = Reader(hex);
        Assert.Equal(expected, reader.ReadInt64());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData("05", 5u)]
    [InlineData("cc05", 5u)]
    [InlineData("cd0005", 5u)]
    [InlineData("ce00000005", 5u)]
    [InlineData("cf0000000000000005", 5u)]
    [InlineData("d005", 5u)]
    [InlineData("d10005", 5u)]
    [InlineData("d200000005", 5u)]
    [InlineData("d30000000000000005", 5u)]
    [InlineData("ceffffffff", uint.MaxValue)]
    [InlineData("cf00000000ffffffff", uint.MaxValue)]
    [InlineData("d3000000007fffffff", int.MaxValue)]
    public void ReadUInt32_accepts_every_width_where_the_value_fits(string hex, uint expected)
    {
        var reader = Reader(hex);
        Assert.Equal(expected, reader.ReadUInt32());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData("ff")]
    [InlineData("d0ff")]
    [InlineData("d1ffff")]
    [InlineData("d2ffffffff")]
    [InlineData("d3ffffffffffffffff")]
    [InlineData("cf0000000100000000")]
    [InlineData("d30000000100000000")]
    [InlineData("cfffffffffffffffff")]
    public void ReadUInt32_rejects_negative_and_too_large(string hex)
    {
        Assert.Throws<ProtocolException>(() => Reader(hex).ReadUInt32());
    }

    [Fact]
    public void ReadUInt64_reads_the_whole_uint64_range_but_ReadInt64_does_not()
    {
        Assert.Equal(ulong.MaxValue, Reader("cfffffffffffffffff").ReadUInt64());
        Assert.Throws<ProtocolException>(() => Reader("cfffffffffffffffff").ReadInt64());
        Assert.Throws<ProtocolException>(() => Reader("d3ffffffffffffffff").ReadUInt64());
    }

    [Theory]
    [InlineData("a0", "")]
    [InlineData("a56c6f626279", "lobby")]
    [InlineData("d9056c6f626279", "lobby")]
    [InlineData("da00056c6f626279", "lobby")]
    [InlineData("db000000056c6f626279", "lobby")]
    [InlineData("d900", "")]
    [InlineData("db00000000", "")]
    public void ReadString_accepts_every_width(string hex, string expected)
    {
        var reader = Reader(hex);
        Assert.Equal(expected, reader.ReadString());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData("c403010203")]
    [InlineData("c50003010203")]
    [InlineData("c600000003010203")]
    public void ReadBinary_accepts_every_width(string hex)
    {
        var reader = Reader(hex);
        Assert.Equal(new byte[] { 1, 2, 3 }, reader.ReadBinarySequence().ToArray());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData("9201c0", 2)]
    [InlineData("dc000201c0", 2)]
    [InlineData("dd0000000201c0", 2)]
    [InlineData("90", 0)]
    [InlineData("dd00000000", 0)]
    public void ReadArrayHeader_accepts_every_width(string hex, int count)
    {
        var reader = Reader(hex);
        Assert.Equal(count, reader.ReadArrayHeader());
        Assert.Equal(count, reader.Remaining);
    }

    [Theory]
    [InlineData("81a16101")]
    [InlineData("de0001a16101")]
    [InlineData("df00000001a16101")]
    public void ReadMapHeader_accepts_every_width(string hex)
    {
        var reader = Reader(hex);
        Assert.Equal(1, reader.ReadMapHeader());
        Assert.Equal("a", reader.ReadString());
        Assert.Equal(1, reader.ReadInt64());
    }

    [Theory]
    [InlineData("ca3fc00000", 1.5)]
    [InlineData("cb3ff8000000000000", 1.5)]
    [InlineData("03", 3.0)]
    public void ReadDouble_accepts_float32_float64_and_integers(string hex, double expected)
    {
        Assert.Equal(expected, Reader(hex).ReadDouble());
    }

    [Theory]
    [InlineData("c0")]
    [InlineData("c2")]
    [InlineData("c3")]
    [InlineData("7f")]
    [InlineData("e0")]
    [InlineData("cfffffffffffffffff")]
    [InlineData("d38000000000000000")]
    [InlineData("ca3fc00000")]
    [InlineData("cb3ff8000000000000")]
    [InlineData("a3616263")]
    [InlineData("d903616263")]
    [InlineData("da0003616263")]
    [InlineData("db00000003616263")]
    [InlineData("c403010203")]
    [InlineData("c50003010203")]
    [InlineData("c600000003010203")]
    [InlineData("93010203")]
    [InlineData("dc0003010203")]
    [InlineData("dd00000003010203")]
    [InlineData("82a16101a162c0")]
    [InlineData("de0002a16101a162c0")]
    [InlineData("df00000002a16101a162c0")]
    [InlineData("d40501")]
    [InlineData("d5050102")]
    [InlineData("d60501020304")]
    [InlineData("d7050102030405060708")]
    [InlineData("d805000102030405060708090a0b0c0d0e0f")]
    [InlineData("c70205abcd")]
    [InlineData("c8000205abcd")]
    [InlineData("c90000000205abcd")]
    [InlineData("c700ff")]
    [InlineData("9291c0dc000181a1619190")]
    public void Skip_consumes_exactly_one_value_of_any_type(string hex)
    {
        var reader = Reader(hex + "2a");
        reader.Skip();
        Assert.Equal(42, reader.ReadInt64());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData("c1")]
    [InlineData("db00000005616263")]
    [InlineData("c6ffffffff00")]
    [InlineData("ddffffffff")]
    [InlineData("dfffffffff")]
    [InlineData("c9ffffffff0500")]
    [InlineData("d70501")]
    [InlineData("cd00")]
    [InlineData("")]
    public void Skip_rejects_malformed_values(string hex)
    {
        Assert.Throws<ProtocolException>(() => Reader(hex).Skip());
    }

    [Fact]
    public void Skip_rejects_nesting_deeper_than_the_limit_and_accepts_it_below()
    {
        byte[] deep = Enumerable.Repeat((byte)0x91, 1000).Append((byte)0x90).ToArray();
        Assert.Throws<ProtocolException>(() => new MessagePackReader(new ReadOnlySequence<byte>(deep)).Skip());
        byte[] shallow = Enumerable.Repeat((byte)0x91, ProtocolConstants.MaxSkipDepth - 1).Append((byte)0x90).ToArray();
        var reader = new MessagePackReader(new ReadOnlySequence<byte>(shallow));
        reader.Skip();
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData("a3", "str")]
    [InlineData("01", "str")]
    [InlineData("c0", "str")]
    [InlineData("c403010203", "str")]
    [InlineData("a3616263", "bin")]
    [InlineData("c0", "bin")]
    [InlineData("a3616263", "int")]
    [InlineData("c0", "int")]
    [InlineData("c3", "int")]
    [InlineData("ca3fc00000", "int")]
    [InlineData("91", "int")]
    [InlineData("01", "array")]
    [InlineData("81", "array")]
    [InlineData("01", "bool")]
    [InlineData("01", "nil")]
    public void Wrong_types_throw_ProtocolException(string hex, string read)
    {
        Assert.Throws<ProtocolException>(() =>
        {
            var reader = Reader(hex);
            switch (read)
            {
                case "str": reader.ReadStringSequence(); break;
                case "bin": reader.ReadBinarySequence(); break;
                case "int": reader.ReadInt64(); break;
                case "array": reader.ReadArrayHeader(); break;
                case "bool": reader.ReadBoolean(); break;
                default: reader.ReadNil(); break;
            }
        });
    }

    [Fact]
    public void Values_spanning_segments_read_the_same()
    {
        byte[] bytes = Convert.FromHexString("dd00000003cf00000000ffffffffda0005c3a9c3a92dc600000002abcd");
        for (int seed = 0; seed < 50; seed++)
        {
            ReadOnlySequence<byte> input = seed == 0 ? Sequences.OneBytePerSegment(bytes) : Sequences.RandomSplit(bytes, new Random(seed));
            var reader = new MessagePackReader(input);
            Assert.Equal(3, reader.ReadArrayHeader());
            Assert.Equal(uint.MaxValue, reader.ReadUInt32());
            Assert.Equal("éé-", reader.ReadString());
            Assert.Equal(new byte[] { 0xab, 0xcd }, reader.ReadBinarySequence().ToArray());
            Assert.True(reader.End);
        }
    }

    private static MessagePackReader Reader(string hex) => new(new ReadOnlySequence<byte>(Convert.FromHexString(hex)));
}
