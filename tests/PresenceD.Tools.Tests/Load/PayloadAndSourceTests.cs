using System.Net;
using PresenceD.Load.Measurement;
using PresenceD.Load.Net;

namespace PresenceD.Tools.Tests.Load;

public sealed class PayloadAndSourceTests
{
    [Fact]
    public void A_payload_carries_its_send_time()
    {
        byte[] payload = Payload.Create(64);
        Payload.Stamp(payload, 1_000);

        Assert.Equal(64, payload.Length);
        Assert.True(Payload.TryReadLatency(payload, 1_000 + System.Diagnostics.Stopwatch.Frequency, out long ns));
        Assert.InRange(ns, 999_999_000, 1_000_001_000);
        Assert.False(Payload.TryReadLatency(payload, 999, out _));
        Assert.False(Payload.TryReadLatency(payload.AsSpan(0, 4), 2_000, out _));
    }

    [Theory]
    [InlineData(1_000, -1, 0)]
    [InlineData(25_000, -1, 0)]
    [InlineData(25_001, -1, 2)]
    [InlineData(100_000, -1, 4)]
    [InlineData(10, 3, 3)]
    public void Source_addresses_are_used_only_past_one_addresss_port_range(int connections, int requested, int expected) =>
        Assert.Equal(expected, ConnectionOpener.SourceAddressCount(connections, requested, IPAddress.Loopback));

    [Fact]
    public void Source_addresses_go_round_from_127_0_0_2()
    {
        Assert.Null(ConnectionOpener.SourceAddress(5, 0));
        Assert.Equal(IPAddress.Parse("127.0.0.2"), ConnectionOpener.SourceAddress(0, 3));
        Assert.Equal(IPAddress.Parse("127.0.0.4"), ConnectionOpener.SourceAddress(2, 3));
        Assert.Equal(IPAddress.Parse("127.0.0.2"), ConnectionOpener.SourceAddress(3, 3));
    }
}
