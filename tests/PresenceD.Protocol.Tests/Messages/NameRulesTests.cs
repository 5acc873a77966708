using System.Buffers;
using PresenceD.Protocol.Messages;
using PresenceD.Protocol.Tests.TestSupport;

namespace PresenceD.Protocol.Tests.Messages;

public sealed class NameRulesTests
{
    private const int MaxName = 128;

    [Theory]
    [InlineData("6c6f626279")] // lobby
    [InlineData("20")] // space is not a control character
    [InlineData("7e")]
    [InlineData("c3a9")] // é
    [InlineData("c2a0")] // U+00A0, just after C1
    [InlineData("e983a8e5b18b")] // 部屋
    [InlineData("efbfbd")] // U+FFFD
    [InlineData("ee8080")] // U+E000, just after the surrogates
    [InlineData("f09f8eae")] // 🎮
    [InlineData("f48fbfbf")] // U+10FFFF
    public void Valid_names(string hex) => AssertCheck(hex, ErrorCode.None);

    [Fact]
    public void Lengths()
    {
        AssertCheck("", ErrorCode.BadRequest);
        AssertCheck(Convert.ToHexString(Enumerable.Repeat((byte)'a', MaxName).ToArray()), ErrorCode.None);
        AssertCheck(Convert.ToHexString(Enumerable.Repeat((byte)'a', MaxName + 1).ToArray()), ErrorCode.TooLarge);
        // 42 three-byte characters = 126 bytes; a 43rd goes over by bytes, not by characters.
        string cjk = string.Concat(Enumerable.Repeat("e983a8", 43));
        AssertCheck(cjk, ErrorCode.TooLarge);
        AssertCheck(cjk[6..], ErrorCode.None);
    }

    [Theory]
    [InlineData("c0af")] // overlong '/'
    [InlineData("c1bf")]
    [InlineData("e080af")]
    [InlineData("e09fbf")]
    [InlineData("f08082af")]
    [InlineData("f08fbfbf")]
    [InlineData("eda080")] // U+D800
    [InlineData("edbfbf")] // U+DFFF
    [InlineData("eda0bdedb880")] // a surrogate pair spelled in CESU-8
    [InlineData("c3")] // truncated
    [InlineData("61e983")]
    [InlineData("f09f8e")]
    [InlineData("80")] // lone continuation
    [InlineData("61bf62")]
    [InlineData("c328")] // lead without continuation
    [InlineData("f4908080")] // above U+10FFFF
    [InlineData("f5808080")]
    [InlineData("f8888080")]
    [InlineData("fe")]
    [InlineData("ff")]
    public void Invalid_UTF8_is_a_bad_request(string hex) => AssertCheck(hex, ErrorCode.BadRequest);

    [Theory]
    [InlineData("00")]
    [InlineData("6100")]
    [InlineData("09")]
    [InlineData("0a")]
    [InlineData("0d")]
    [InlineData("1b")]
    [InlineData("1f")]
    [InlineData("7f")] // DEL
    [InlineData("c280")] // C1
    [InlineData("c285")]
    [InlineData("61c29f")]
    public void Control_characters_are_a_bad_request(string hex) => AssertCheck(hex, ErrorCode.BadRequest);

    [Fact]
    public void A_long_segmented_name_under_a_large_limit_is_checked_without_overflowing_the_stack()
    {
        byte[] name = Enumerable.Repeat((byte)'a', 4 << 20).ToArray();
        Assert.Equal(ErrorCode.None, NameRules.Check(Sequences.FromChunks([name[..1000], name[1000..]]), int.MaxValue));
        name[^1] = 0x7f;
        Assert.Equal(ErrorCode.BadRequest, NameRules.Check(Sequences.FromChunks([name[..1000], name[1000..]]), int.MaxValue));
    }

    private static void AssertCheck(string hex, ErrorCode expected)
    {
        byte[] name = Convert.FromHexString(hex);
        Assert.Equal(expected, NameRules.Check(name, MaxName));
        Assert.Equal(expected, NameRules.Check(new ReadOnlySequence<byte>(name), MaxName));
        if (name.Length > 1) Assert.Equal(expected, NameRules.Check(Sequences.OneBytePerSegment(name), MaxName));
    }
}
