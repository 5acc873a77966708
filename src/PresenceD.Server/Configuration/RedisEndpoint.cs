using StackExchange.Redis;

namespace PresenceD.Server.Configuration;

/// <summary>How the `redis` setting names its deployment.</summary>
internal enum RedisEndpointForm
{
    /// <summary>host:port[,host:port...][,options]: one server, or a Redis Cluster's seeds (told apart by the servers' answer at connect).</summary>
    Servers,
    /// <summary>Sentinels with `serviceName=` (or `sentinel://h1:26379,h2:26379/mymaster`).</summary>
    Sentinel,
    /// <summary>`cluster://h1:7000,h2:7001`: a Redis Cluster even when no seed answers at start.</summary>
    Cluster,
}

/// <summary>
/// The `redis` setting: a StackExchange.Redis configuration string, or one of two aliases that become one.
/// `sentinel://h1:26379,h2:26379/mymaster[,options]` is `h1:26379,h2:26379,serviceName=mymaster[,options]`;
/// `cluster://h1:7000,h2:7001[,options]` is the seed list itself, marked as a cluster.
/// </summary>
internal sealed record RedisEndpoint(string Configuration, RedisEndpointForm Form, string? ServiceName)
{
    public const string SentinelScheme = "sentinel://";
    public const string ClusterScheme = "cluster://";

    /// <summary>Parses and checks the setting (throws <see cref="FormatException"/> naming what is wrong).</summary>
    public static RedisEndpoint Parse(string text)
    {
        RedisEndpointForm form = RedisEndpointForm.Servers;
        string configuration = text;
        if (text.StartsWith(SentinelScheme, StringComparison.OrdinalIgnoreCase))
        {
            string rest = text[SentinelScheme.Length..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || slash == rest.Length - 1) throw new FormatException($"'{text}' is not a valid redis endpoint: sentinel:// needs hosts and a service name, e.g. sentinel://h1:26379,h2:26379/mymaster");
            string service = rest[(slash + 1)..];
            int comma = service.IndexOf(',', StringComparison.Ordinal);
            string options = comma < 0 ? "" : service[comma..];
            if (comma >= 0) service = service[..comma];
            if (service.Length == 0) throw new FormatException($"'{text}' is not a valid redis endpoint: the service name after '/' is empty");
            configuration = rest[..slash] + ",serviceName=" + service + options;
        }
        else if (text.StartsWith(ClusterScheme, StringComparison.OrdinalIgnoreCase))
        {
            configuration = text[ClusterScheme.Length..];
            form = RedisEndpointForm.Cluster;
        }
        ConfigurationOptions parsed;
        try
        {
            parsed = ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"'{text}' is not a valid redis endpoint: {e.Message}", e);
        }
        if (parsed.EndPoints.Count == 0) throw new FormatException($"'{text}' is not a valid redis endpoint: it names no host:port");
        if (!string.IsNullOrEmpty(parsed.ServiceName))
        {
            if (form == RedisEndpointForm.Cluster) throw new FormatException($"'{text}' is not a valid redis endpoint: a cluster has no serviceName");
            form = RedisEndpointForm.Sentinel;
        }
        return new RedisEndpoint(configuration, form, string.IsNullOrEmpty(parsed.ServiceName) ? null : parsed.ServiceName);
    }

    /// <summary>What --check-config says of the deployment (without connecting).</summary>
    public string Describe() => Form switch
    {
        RedisEndpointForm.Sentinel => $"sentinel {ServiceName}",
        RedisEndpointForm.Cluster => "cluster",
        _ => "single server, or a cluster if the servers answer as one (detected at connect)",
    };
}
