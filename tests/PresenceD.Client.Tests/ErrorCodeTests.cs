namespace PresenceD.Client.Tests;

/// <summary>The client's ErrorCode is a copy of the protocol's (so users need no Protocol namespace): it must not drift.</summary>
public sealed class ErrorCodeTests
{
    [Fact]
    public void The_client_error_codes_have_the_protocols_names_and_values()
    {
        var wire = Enum.GetValues<PresenceD.Protocol.ErrorCode>().ToDictionary(c => c.ToString(), c => (byte)c);
        var client = Enum.GetValues<ErrorCode>().ToDictionary(c => c.ToString(), c => (byte)c);
        Assert.Equal(wire.OrderBy(p => p.Key), client.OrderBy(p => p.Key));
    }
}
