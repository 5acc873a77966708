using PresenceD.Client.Internal;

namespace PresenceD.Client.Tests.Internal;

public sealed class HeartbeatPolicyTests
{
    [Fact]
    public void Pings_after_half_a_heartbeat_of_silence_so_it_is_never_late()
    {
        var policy = new HeartbeatPolicy(heartbeatMs: 5000, timeoutMs: 15000);

        Assert.False(policy.ShouldPing(nowMs: 12_499, lastSentMs: 10_000));
        Assert.True(policy.ShouldPing(nowMs: 12_500, lastSentMs: 10_000));
        Assert.True(policy.TickInterval.TotalMilliseconds <= 5000 / 4.0);
    }

    [Fact]
    public void A_server_silent_for_timeout_ms_is_dead()
    {
        var policy = new HeartbeatPolicy(5000, 15000);

        Assert.False(policy.IsServerSilent(nowMs: 24_999, lastReceivedMs: 10_000));
        Assert.True(policy.IsServerSilent(nowMs: 25_000, lastReceivedMs: 10_000));
    }

    [Fact]
    public void A_timeout_below_the_heartbeat_is_raised_to_it()
    {
        var policy = new HeartbeatPolicy(5000, 10);

        Assert.Equal(5000, policy.TimeoutMs);
    }
}
