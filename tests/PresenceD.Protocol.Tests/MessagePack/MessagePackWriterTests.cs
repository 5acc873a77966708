using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;

namespace PresenceD.Protocol.Tests.MessagePack;

/// <summary>The writer always picks the smallest encoding (so its bytes can be compared with other implementations).</summary>
public sealed class MessagePackWriterTests
{
    [Theory]
    [InlineData(0L, "00")]
    [InlineData(127L, "7f")]
    [InlineData(128L, "cc80")]
    [InlineData(255L, "ccff")]
    [InlineData(256L, "cd0100")]
    [InlineData(65535L, "cdffff")]
    [InlineData(65536L, "ce00010000")]
    [InlineData(4294967295L, "ceffffffff")]
    [InlineData(4294967296L, "cf0000000100000000")]
    [InlineData(-1L, "ff")]
    [InlineData(-32L, "e0")]
    [InlineData(-33L, "d0df")]
    [InlineData(-128L, "d080")]
    [InlineData(-129L, "d1ff7f")]
    [InlineData(-32768L, "d18000")]
    [InlineData(-32769L, "d2ffff7fff")]
    [InlineData(-2147483648L, "d280000000")]
    [InlineData(-2147483649L, "d3ffffffff7fffffff")]
    [InlineData(long.MinValue, "d38000000000000000")]
    public void Integers_take_the_smallest_form(long value, string hex)
    {
        Assert.Equal(hex, Write((ref MessagePackWriter w) => w.WriteInt64(value)));
    }

    [Theory]
    [InlineData(0, "a0")]
    [InlineData(31, "bf")]
    [InlineData(32, "d920")]
    [InlineData(255, "d9ff")]
    [InlineData(256, "da0100")]
    [InlineData(65535, "daffff")]
    [InlineData(65536, "db00010000")]
    public void Strings_take_the_smallest_header(int length, string header)
    {
        string written = Write((ref MessagePackWriter w) => w.WriteString(new string('a', length)));
        Assert.StartsWith(header, written, StringComparison.Ordinal);
        Assert.Equal(header.Length / 2 + length, written.Length / 2);
    }

    [Theory]
    [InlineData(0, "c400")]
    [InlineData(255, "c4ff")]
    [InlineData(256, "c50100")]
    [InlineData(65536, "c600010000")]
    public void Binaries_take_the_smallest_header(int length, string header)
    {
        string written = Write((ref MessagePackWriter w) => w.WriteBinary(new byte[length]));
        Assert.StartsWith(header, written, StringComparison.Ordinal);
        Assert.Equal(header.Length / 2 + length, written.Length / 2);
    }

    [Theory]
    [InlineData(15, "9f")]
    [InlineData(16, "dc0010")]
    [InlineData(65536, "dd00010000")]
    public void Array_and_map_headers_take_the_smallest_form(int count, string arrayHex)
    {
        Assert.Equal(arrayHex, Write((ref MessagePackWriter w) => w.WriteArrayHeader(count)));
        string mapHex = (count <= 15 ? (0x80 | count).ToString("x2") : count <= 65535 ? "de" + count.ToString("x4") : "df" + count.ToString("x8"));
        Assert.Equal(mapHex, Write((ref MessagePackWriter w) => w.WriteMapHeader(count)));
    }

    [Fact]
    public void Unicode_strings_are_written_as_UTF8()
    {
        Assert.Equal("acc3a9e983a8e5b18bf09f8eae", Write((ref MessagePackWriter w) => w.WriteString("é部屋🎮")));
    }

    private delegate void WriteAction(ref MessagePackWriter writer);

    private static string Write(WriteAction write)
    {
        using var buffer = new FrameBuffer(1);
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return Convert.ToHexStringLower(buffer.WrittenSpan);
    }
}
