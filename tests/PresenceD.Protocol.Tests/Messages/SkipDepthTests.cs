using System.Buffers;
using System.Text.RegularExpressions;
using PresenceD.Protocol.Messages;

namespace PresenceD.Protocol.Tests.Messages;

/// <summary>
/// Skipped elements (trailing elements of a frame, of since, of a member) may nest only so deep: the number is
/// part of the contract, so docs/protocol.md states it and these tests hold the codec and the document to it.
/// </summary>
public sealed class SkipDepthTests
{
    private const int Documented = 32;

    [Fact]
    public void The_limit_is_the_documented_number()
    {
        Assert.Equal(Documented, ProtocolConstants.MaxSkipDepth);
        string doc = File.ReadAllText(DocPath());
        Match rule = Regex.Match(doc, @"values\s+in\s+it\s+nest\s+at\s+most\s+(\d+)\s+levels\s+deep\s+\(the\s+element\s+is\s+level\s+1\);\s+a\s+value\s+at\s+level\s+(\d+)\s+is\s+a\s+protocol\s+error");
        Assert.True(rule.Success, "docs/protocol.md states the nesting rule of trailing elements");
        Assert.Equal(Documented, int.Parse(rule.Groups[1].Value));
        Assert.Equal(Documented + 1, int.Parse(rule.Groups[2].Value));
        Assert.Contains($"skipped elements nest at most {Documented} levels", doc, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x91)] // fixarray 1
    [InlineData(0x81)] // fixmap 1: the nested value is the map's value, after a nil key
    public void A_trailing_element_with_a_value_at_the_last_level_is_skipped_and_one_level_deeper_is_refused(byte container)
    {
        ClientRequest ping = ClientRequestDecoder.Decode(Ping(Nested(container, Documented)));
        Assert.Equal(OpCode.Ping, ping.Op);
        Assert.Equal(5u, ping.Rid);
        var ex = Assert.Throws<ProtocolException>(() => ClientRequestDecoder.Decode(Ping(Nested(container, Documented + 1))));
        Assert.Contains($"nesting deeper than {Documented}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nested_empty_arrays_count_as_levels_too()
    {
        byte[] deepest = [.. Enumerable.Repeat((byte)0x91, Documented - 1), 0x90]; // the empty array is at level 32
        Assert.Equal(OpCode.Ping, ClientRequestDecoder.Decode(Ping(deepest)).Op);
        byte[] deeper = [.. Enumerable.Repeat((byte)0x91, Documented), 0x90];
        Assert.Throws<ProtocolException>(() => ClientRequestDecoder.Decode(Ping(deeper)));
    }

    [Fact]
    public void The_same_limit_holds_for_extra_elements_of_since_and_for_server_frames()
    {
        byte[] since(int level) => [0x95, 0x02, 0x01, 0xa1, (byte)'r', 0xc0, 0x93, 0xa1, (byte)'e', 0x01, .. Nested(0x91, level)];
        Assert.True(ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(since(Documented))).HasSince);
        Assert.Throws<ProtocolException>(() => ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(since(Documented + 1))));

        byte[] pong(int level) => [0x93, 0x48, 0x05, .. Nested(0x91, level)];
        Assert.IsType<PongMessage>(ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(pong(Documented))));
        Assert.Throws<ProtocolException>(() => ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(pong(Documented + 1))));
    }

    /// <summary>One element whose innermost value, an int, is at <paramref name="level"/> (the element itself is level 1).</summary>
    private static byte[] Nested(byte container, int level)
    {
        var bytes = new List<byte>();
        for (int i = 1; i < level; i++)
        {
            bytes.Add(container);
            if (container == 0x81) bytes.Add(0xc0); // the key, at the same level as the value
        }
        bytes.Add(0x07);
        return [.. bytes];
    }

    /// <summary>PING [8, 5, element].</summary>
    private static ReadOnlySequence<byte> Ping(byte[] element) => new([0x93, 0x08, 0x05, .. element]);

    private static string DocPath()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PresenceD.sln"))) return Path.Combine(dir.FullName, "docs", "protocol.md");
        }
        throw new InvalidOperationException($"no PresenceD.sln above {AppContext.BaseDirectory}");
    }
}
