using PresenceD.Server.Configuration;

namespace PresenceD.Server.Tests.Configuration;

/// <summary>The `redis` setting's forms (docs/cluster.md): each becomes the StackExchange.Redis string it stands for, bad ones are refused by name.</summary>
public sealed class RedisEndpointTests
{
    [Theory]
    [InlineData("127.0.0.1:6379", "127.0.0.1:6379", "Servers", null)]
    [InlineData("h1:7000,h2:7001", "h1:7000,h2:7001", "Servers", null)]
    [InlineData("cluster://h1:7000,h2:7001", "h1:7000,h2:7001", "Cluster", null)]
    [InlineData("h1:26379,h2:26379,serviceName=mymaster", "h1:26379,h2:26379,serviceName=mymaster", "Sentinel", "mymaster")]
    [InlineData("sentinel://h1:26379,h2:26379/mymaster", "h1:26379,h2:26379,serviceName=mymaster", "Sentinel", "mymaster")]
    [InlineData("sentinel://h1:26379/mymaster,password=x", "h1:26379,serviceName=mymaster,password=x", "Sentinel", "mymaster")]
    public void Each_form_becomes_its_configuration_string(string setting, string configuration, string form, string? service)
    {
        RedisEndpoint endpoint = RedisEndpoint.Parse(setting);
        Assert.Equal((configuration, form, service), (endpoint.Configuration, endpoint.Form.ToString(), endpoint.ServiceName));
    }

    [Theory]
    [InlineData("sentinel://h1:26379", "service name")]
    [InlineData("sentinel://h1:26379/", "service name")]
    [InlineData("sentinel:///mymaster", "service name")]
    [InlineData("cluster://h1:7000,serviceName=x", "a cluster has no serviceName")]
    [InlineData("password=x", "no host:port")]
    public void A_bad_form_is_refused_saying_what_is_wrong(string setting, string reason)
    {
        FormatException e = Assert.Throws<FormatException>(() => RedisEndpoint.Parse(setting));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_config_names_the_deployment_the_setting_tells()
    {
        Assert.Equal("sentinel mymaster", RedisEndpoint.Parse("sentinel://h1:26379/mymaster").Describe());
        Assert.Equal("cluster", RedisEndpoint.Parse("cluster://h1:7000").Describe());
        Assert.StartsWith("single server", RedisEndpoint.Parse("h1:6379").Describe(), StringComparison.Ordinal);
    }
}
