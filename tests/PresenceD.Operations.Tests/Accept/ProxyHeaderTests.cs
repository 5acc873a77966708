using System.Net;
using System.Text;
using PresenceD.Operations.Tests.Support;
using PresenceD.Server.Accept;

namespace PresenceD.Operations.Tests.Accept;

public sealed class ProxyHeaderTests
{
    private static readonly IPEndPoint Destination = IPEndPoint.Parse("10.0.0.11:7400");

    [Theory]
    [InlineData("203.0.113.7:41000")]
    [InlineData("[2001:db8::7]:41000")]
    public void V1_lines_yield_the_source_endpoint(string source)
    {
        IPEndPoint client = IPEndPoint.Parse(source);
        IPEndPoint destination = client.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Destination : IPEndPoint.Parse("[2001:db8::1]:7400");

        Assert.Equal(client, ProxyHeader.ParseV1(ProxyHeaders.V1(client, destination)));
    }

    [Fact]
    public void V1_unknown_keeps_the_socket_peer()
    {
        Assert.Null(ProxyHeader.ParseV1("PROXY UNKNOWN\r\n"u8));
        Assert.Null(ProxyHeader.ParseV1("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"u8));
    }

    [Theory]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 80 99999\r\n")]
    [InlineData("PROXY TCP4 1.2.3.x 5.6.7.8 80 81\r\n")]
    [InlineData("PROXY TCP6 1.2.3.4 5.6.7.8 80 81\r\n")]
    [InlineData("PROXY UDP4 1.2.3.4 5.6.7.8 80 81\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 080 81\r\n")]
    [InlineData("PROXY TCP4 1.2.3.4 5.6.7.8 80 81\n")]
    public void Malformed_v1_lines_are_refused(string line)
    {
        Assert.Throws<InvalidDataException>(() => ProxyHeader.ParseV1(Encoding.ASCII.GetBytes(line)));
    }

    [Theory]
    [InlineData("203.0.113.7:41000", 0)]
    [InlineData("[2001:db8::7]:41000", 0)]
    [InlineData("198.51.100.9:1", 40)]
    public void V2_headers_yield_the_source_endpoint_and_skip_tlvs(string source, int tlvBytes)
    {
        IPEndPoint client = IPEndPoint.Parse(source);
        IPEndPoint destination = client.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Destination : IPEndPoint.Parse("[2001:db8::1]:7400");
        byte[] header = ProxyHeaders.V2(client, destination, tlvBytes);

        int bodyLength = ProxyHeader.V2BodyLength(header.AsSpan(0, 16));

        Assert.Equal(header.Length - 16, bodyLength);
        Assert.Equal(client, ProxyHeader.ParseV2(header.AsSpan(0, 16), header.AsSpan(16)));
    }

    [Fact]
    public void V2_local_keeps_the_socket_peer()
    {
        byte[] header = ProxyHeaders.V2Local();

        Assert.Equal(0, ProxyHeader.V2BodyLength(header));
        Assert.Null(ProxyHeader.ParseV2(header, []));
    }

    [Fact]
    public void V2_with_a_bad_version_or_oversized_body_is_refused()
    {
        byte[] badVersion = ProxyHeaders.V2(IPEndPoint.Parse("1.2.3.4:5"), Destination);
        badVersion[12] = 0x11;
        byte[] huge = ProxyHeaders.V2(IPEndPoint.Parse("1.2.3.4:5"), Destination);
        huge[14] = 0xFF;

        Assert.Throws<InvalidDataException>(() => ProxyHeader.V2BodyLength(badVersion.AsSpan(0, 16)));
        Assert.Throws<InvalidDataException>(() => ProxyHeader.V2BodyLength(huge.AsSpan(0, 16)));
    }

    [Fact]
    public void The_prefix_tells_v1_from_v2_from_neither()
    {
        byte[] v2 = ProxyHeaders.V2Local();

        Assert.True(ProxyHeader.IsV1("PROXY TC"u8));
        Assert.False(ProxyHeader.IsV2("PROXY TC"u8));
        Assert.True(ProxyHeader.IsV2(v2.AsSpan(0, ProxyHeader.PrefixLength)));
        Assert.False(ProxyHeader.IsV1(v2.AsSpan(0, ProxyHeader.PrefixLength)));
        Assert.False(ProxyHeader.IsV1("\0\0\0\x05\x82\xa1op"u8));
        Assert.False(ProxyHeader.IsV2("\0\0\0\x05\x82\xa1op"u8));
    }
}
