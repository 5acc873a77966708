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

    /// <summary>
    /// Every bad value is refused before any connection is made (the server address is unreachable on purpose: a
    /// refusal that got as far as connecting would exit 2), with exit code 1 and a message naming the option.
    /// </summary>
    [Theory]
    [InlineData("--server", "fanout --server 127.0.0.1:99999", "--server")]
    [InlineData("--duration", "fanout --duration soon", "--duration")]
    [InlineData("--duration", "fanout --duration 0s", "--duration must be positive")]
    [InlineData("--warmup", "rooms --warmup later", "--warmup")]
    [InlineData("--payload", "fanout --payload 4", "--payload must be at least 8")]
    [InlineData("--interval", "rooms --interval often", "--interval: 'often' is not a duration")]
    [InlineData("--interval", "rooms --interval 10ms", "--interval must be at least 100 ms")]
    [InlineData("--interval", "idle --interval 1s", "idle does not have")]
    [InlineData("--hdr-out", "idle --hdr-out x.hdr", "idle does not have")]
    [InlineData("--rate (fanout)", "fanout --rate -5", "--rate must be 0 (closed loop)")]
    [InlineData("--rate (rooms)", "rooms --rate 0", "--rate must be a positive number")]
    [InlineData("--rate (churn)", "churn --rate -1", "--rate must be a positive number")]
    [InlineData("--rate not a number", "rooms --rate fast", "fast")]
    [InlineData("--window", "fanout --window 0", "--window must be at least 1")]
    [InlineData("--subscribers", "fanout --subscribers 0", "--subscribers and --publishers must be at least 1")]
    [InlineData("--connections (rooms)", "rooms --connections 1", "--connections and --room-size must be at least 2")]
    [InlineData("--room-size (churn)", "churn --room-size 0", "--room-size must be at least 1")]
    [InlineData("--connections (idle)", "idle --connections 0", "--connections must be at least 1")]
    [InlineData("--compare with a scenario", "rooms --compare a.json b.json", "--compare")]
    [InlineData("--compare with one file", "--compare a.json", "--compare")]
    [InlineData("no scenario", "", "name a scenario")]
    [InlineData("unknown scenario", "flood", "flood")]
    public async Task A_bad_option_exits_1_naming_it(string what, string args, string message)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] argv = [.. args.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        if (!args.Contains("--server")) argv = [.. argv, "--server", "127.0.0.1:1"];

        int code = await LoadApp.RunAsync(argv, output, error, interactive: false);

        Assert.True(code == 1, $"{what}: exit {code}, stderr: {error}");
        Assert.Contains(message, error.ToString());
    }

    [Fact]
    public async Task Help_lists_every_option()
    {
        var output = new StringWriter();
        Assert.Equal(0, await LoadApp.RunAsync(["--help"], output, new StringWriter(), interactive: false));
        foreach (string option in new[] { "--server", "--duration", "--warmup", "--payload", "--json", "--server-pid", "--max-messages", "--source-addresses", "--room-prefix", "--no-progress", "--interval", "--hdr-out", "--compare" })
            Assert.Contains(option, output.ToString());
        var fanout = new StringWriter();
        Assert.Equal(0, await LoadApp.RunAsync(["fanout", "--help"], fanout, new StringWriter(), interactive: false));
        foreach (string option in new[] { "--subscribers", "--publishers", "--window", "--rate" }) Assert.Contains(option, fanout.ToString());
    }
}
