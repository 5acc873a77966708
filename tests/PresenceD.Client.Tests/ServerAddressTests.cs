namespace PresenceD.Client.Tests;

public sealed class ServerAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:7400", "127.0.0.1", 7400)]
    [InlineData("example.org:1", "example.org", 1)]
    [InlineData("localhost", "localhost", 7400)]
    [InlineData("[::1]:9000", "::1", 9000)]
    [InlineData("[::1]", "::1", 7400)]
    public void Parses_host_and_port(string text, string host, int port)
    {
        Assert.True(ServerAddress.TryParse(text, out ServerAddress address));
        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData(":7400")]
    [InlineData("host:")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("host:abc")]
    [InlineData("::1:7400")]
    [InlineData("[::1]x")]
    public void Rejects_malformed_addresses(string text)
    {
        Assert.False(ServerAddress.TryParse(text, out _));
        Assert.Throws<FormatException>(() => ServerAddress.Parse(text));
    }

    [Fact]
    public void Formats_back_to_text() =>
        Assert.Equal("[::1]:9000", new ServerAddress("::1", 9000).ToString());
}
