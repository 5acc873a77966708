using System.Text;
using PresenceD.Client.Internal;

namespace PresenceD.Client.Tests.Internal;

public sealed class JwtExpiryTests
{
    private static string Jwt(string payloadJson)
    {
        static string Segment(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return Segment("{\"alg\":\"HS256\"}") + "." + Segment(payloadJson) + ".c2ln";
    }

    [Theory]
    [InlineData("{\"sub\":\"alice\",\"exp\":1900000000}", 1900000000L)]
    [InlineData(" { \"exp\" : 1900000000.9 , \"sub\" : \"a\" } ", 1900000000L)]
    [InlineData("{\"exp\":1.9e9}", 1900000000L)]
    [InlineData("{\"rooms\":[\"a\",{\"exp\":1}],\"see\":{\"exp\":2},\"s\":\"\\\"exp\\\":3\",\"exp\":5}", 5L)]
    [InlineData("{\"sub\":\"ü-🎮\",\"nested\":[[[]]],\"n\":null,\"t\":true,\"exp\":42}", 42L)]
    public void Reads_the_top_level_exp(string payload, long exp)
    {
        Assert.True(JwtExpiry.TryRead(Jwt(payload), out long read));
        Assert.Equal(exp, read);
    }

    [Theory]
    [InlineData("{\"sub\":\"alice\"}")]
    [InlineData("{\"exp\":\"1900000000\"}")]
    [InlineData("{\"data\":{\"exp\":1900000000}}")]
    [InlineData("[1900000000]")]
    [InlineData("{\"exp\":")]
    [InlineData("not json")]
    public void A_payload_without_a_numeric_top_level_exp_has_none(string payload) => Assert.False(JwtExpiry.TryRead(Jwt(payload), out _));

    [Theory]
    [InlineData(null)]
    [InlineData("alice")]
    [InlineData("a.b")]
    [InlineData("a.!!!.c")]
    public void Something_that_is_not_a_JWT_has_no_exp(string? token) => Assert.False(JwtExpiry.TryRead(token, out _));
}
