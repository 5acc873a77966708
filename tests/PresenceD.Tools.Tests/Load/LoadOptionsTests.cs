using PresenceD.Load;

namespace PresenceD.Tools.Tests.Load;

public sealed class LoadOptionsTests
{
    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("500ms", 500)]
    [InlineData("2m", 120_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("3", 3_000)]
    [InlineData("1h", 3_600_000)]
    public void Parses_durations(string text, double milliseconds)
    {
        Assert.True(LoadOptions.TryParseDuration(text, out TimeSpan duration));
        Assert.Equal(milliseconds, duration.TotalMilliseconds, 3);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ten seconds")]
    [InlineData("-1s")]
    [InlineData("5x")]
    public void Rejects_bad_durations(string text) => Assert.False(LoadOptions.TryParseDuration(text, out _));

    [Fact]
    public void Validation_names_the_bad_flag()
    {
        Assert.Contains("--payload", new LoadOptions { Payload = 4 }.Validate());
        Assert.Contains("--window", new LoadOptions { Scenario = "fanout", Window = 0 }.Validate());
        Assert.Contains("--rate", new LoadOptions { Scenario = "rooms", Rate = 0 }.Validate());
        Assert.Null(new LoadOptions { Scenario = "idle", Connections = 5 }.Validate());
    }
}
