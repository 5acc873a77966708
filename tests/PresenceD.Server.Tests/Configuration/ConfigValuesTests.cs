using PresenceD.Server.Configuration;

namespace PresenceD.Server.Tests.Configuration;

public sealed class ConfigValuesTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5_000)]
    [InlineData("5S", 5_000)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1H", 3_600_000)]
    [InlineData("7", 7_000)]
    [InlineData("0", 0)]
    [InlineData("0ms", 0)]
    public void Durations(string text, long ms) => Assert.Equal(TimeSpan.FromMilliseconds(ms), ConfigValues.ParseDuration(text));

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("5 s")]
    [InlineData("-5s")]
    [InlineData("1.5s")]
    [InlineData("5d")]
    [InlineData("5sec")]
    [InlineData("99999999999999999h")]
    public void Bad_durations(string text) => Assert.Throws<FormatException>(() => ConfigValues.ParseDuration(text));

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(100, "100ms")]
    [InlineData(1_500, "1500ms")]
    [InlineData(5_000, "5s")]
    [InlineData(90_000, "90s")]
    [InlineData(600_000, "10m")]
    [InlineData(7_200_000, "2h")]
    public void Duration_formatting_round_trips(long ms, string text)
    {
        Assert.Equal(text, ConfigValues.FormatDuration(TimeSpan.FromMilliseconds(ms)));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), ConfigValues.ParseDuration(text));
    }

    [Theory]
    [InlineData("512b", 512)]
    [InlineData("512B", 512)]
    [InlineData("512", 512)]
    [InlineData("64kb", 65_536)]
    [InlineData("64KB", 65_536)]
    [InlineData("1mb", 1_048_576)]
    [InlineData("1Mb", 1_048_576)]
    [InlineData("1gb", 1_073_741_824)]
    [InlineData("0", 0)]
    public void Sizes(string text, long bytes) => Assert.Equal(bytes, ConfigValues.ParseSize(text));

    [Theory]
    [InlineData("")]
    [InlineData("kb")]
    [InlineData("1k")]
    [InlineData("1tb")]
    [InlineData("-1kb")]
    [InlineData("1.5mb")]
    [InlineData("99999999999gb")]
    public void Bad_sizes(string text) => Assert.Throws<FormatException>(() => ConfigValues.ParseSize(text));

    [Theory]
    [InlineData(0, "0")]
    [InlineData(100, "100")]
    [InlineData(1_024, "1kb")]
    [InlineData(1_536, "1536")]
    [InlineData(3_145_728, "3mb")]
    [InlineData(2_147_483_648, "2gb")]
    public void Size_formatting_round_trips(long bytes, string text)
    {
        Assert.Equal(text, ConfigValues.FormatSize(bytes));
        Assert.Equal(bytes, ConfigValues.ParseSize(text));
    }

    [Theory]
    [InlineData("on", true)]
    [InlineData("ON", true)]
    [InlineData("yes", true)]
    [InlineData("true", true)]
    [InlineData("off", false)]
    [InlineData("no", false)]
    [InlineData("False", false)]
    public void Booleans(string text, bool value) => Assert.Equal(value, ConfigValues.ParseBool(text));

    [Fact]
    public void Bad_boolean() => Assert.Throws<FormatException>(() => ConfigValues.ParseBool("1"));
}
