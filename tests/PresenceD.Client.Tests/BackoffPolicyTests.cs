namespace PresenceD.Client.Tests;

public sealed class BackoffPolicyTests
{
    private readonly BackoffPolicy _policy = new()
    {
        Initial = TimeSpan.FromMilliseconds(100),
        Max = TimeSpan.FromSeconds(2),
        Multiplier = 2,
        Jitter = 0.5,
    };

    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 200)]
    [InlineData(3, 800)]
    [InlineData(10, 2000)]
    [InlineData(1000, 2000)]
    public void The_ceiling_grows_exponentially_up_to_the_max(int attempt, double ceilingMs)
    {
        Assert.Equal(ceilingMs, _policy.Delay(attempt, 0.0, TimeSpan.Zero).TotalMilliseconds, 3);
        Assert.Equal(ceilingMs / 2, _policy.Delay(attempt, 1.0, TimeSpan.Zero).TotalMilliseconds, 3);
    }

    [Fact]
    public void Jitter_spreads_delays_between_half_and_the_whole_ceiling()
    {
        var random = new Random(42);
        var delays = Enumerable.Range(0, 1000).Select(_ => _policy.Delay(2, random.NextDouble(), TimeSpan.Zero).TotalMilliseconds).ToList();

        Assert.All(delays, d => Assert.InRange(d, 200, 400));
        Assert.True(delays.Distinct().Count() > 500, "delays should be spread, not one value");
    }

    [Fact]
    public void The_servers_reconnect_hint_is_a_floor()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), _policy.Delay(0, 0.3, TimeSpan.FromSeconds(5)));
        Assert.Equal(2000, _policy.Delay(10, 0.0, TimeSpan.FromMilliseconds(50)).TotalMilliseconds, 3);
    }

    [Fact]
    public void A_negative_attempt_is_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => _policy.Delay(-1, 0, TimeSpan.Zero));
}
