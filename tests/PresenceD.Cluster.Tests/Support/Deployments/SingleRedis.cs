namespace PresenceD.Cluster.Tests.Support.Deployments;

/// <summary>One redis-server: the deployment the cluster had before Sentinel and Redis Cluster.</summary>
public sealed class SingleRedis : TestRedis
{
    public const string Collection = "redis single server";

    private RedisProcess? _server;

    public override string Name => "single";

    public override string Endpoint => Server.Endpoint;

    internal RedisProcess Server => _server ?? throw new InvalidOperationException("not started");

    internal override IReadOnlyList<RedisProcess> Processes => _server is null ? [] : [_server];

    internal override Task<IReadOnlyList<RedisProcess>> MastersAsync() => Task.FromResult<IReadOnlyList<RedisProcess>>([Server]);

    public override async Task InitializeAsync() => _server = await RedisProcess.StartAsync();

    internal override void Kill() => Server.Kill();

    internal override Task RestartEmptyAsync() => Server.RestartAsync();

    internal override Task WaitHealthyAsync() => Task.CompletedTask;
}

[CollectionDefinition(SingleRedis.Collection)]
public sealed class SingleRedisCollection : ICollectionFixture<SingleRedis>;
