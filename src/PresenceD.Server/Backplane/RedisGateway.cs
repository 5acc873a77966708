using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using PresenceD.Server.Configuration;
using PresenceD.Server.Rooms;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// The one way to Redis: a StackExchange.Redis multiplexer whose every call runs through a Polly pipeline
/// (timeout = redis_timeout, then a circuit breaker), so a hung or dead Redis costs each caller at most the
/// timeout and, once the breaker opens, nothing at all. The library takes no cancellation tokens for commands:
/// the timeout abandons the call (WaitAsync) rather than cancelling it; its own AsyncTimeout ends it soon after.
/// </summary>
internal sealed class RedisGateway : IDisposable
{
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger _logger;
    private readonly BackplaneHealth _health;

    public RedisGateway(RedisEndpoint endpoint, string nodeId, TimeSpan timeout, BackplaneHealth health, ILogger logger)
    {
        _health = health;
        _logger = logger;
        ConfigurationOptions configuration = ConfigurationOptions.Parse(endpoint.Configuration);
        configuration.AbortOnConnectFail = false;
        // The subscription audit asks each server for its client list (CLIENT LIST), which the library allows only in admin mode.
        configuration.AllowAdmin = true;
        // The subscription audit finds this node's connections on each server by their name.
        if (string.IsNullOrEmpty(configuration.ClientName)) configuration.ClientName = "presenced-" + nodeId;
        ClientName = configuration.ClientName;
        // No library configuration channel (`configChannel=` is overridden): it only carries the library's own
        // MakePrimary/PublishReconfigure broadcasts, which nothing here sends, and every subscription connection holding it
        // counts one channel that is no room's, so the audit's count hid a missing room channel (one room: 1 held of 1).
        configuration.ConfigurationChannel = "";
        int timeoutMs = (int)Math.Max(1, timeout.TotalMilliseconds);
        // The deployment (single server or cluster) is told from the first connect's answer. A longer wait would not help
        // a Redis that is down and costs every start that much per connect retry (3000 ms made a start over 10 s).
        configuration.ConnectTimeout = Math.Max(timeoutMs, 1000);
        configuration.SyncTimeout = timeoutMs;
        configuration.AsyncTimeout = timeoutMs;
        configuration.KeepAlive = Math.Max(1, timeoutMs / 1000);
        // Fail fast while disconnected: the default backlog queues commands until their timeout, which hides an
        // outage from the circuit breaker and delivers stale presence writes late. The writer's own queue and the
        // resync after recovery are what carry the node through an outage.
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        // Reconnect soon after a failover instead of backing off exponentially (the default): a promoted replica
        // should be in use within about a second.
        configuration.ReconnectRetryPolicy = new LinearRetry(Math.Clamp(timeoutMs, 250, 1000));
        // The library's own retry (DatabaseExtensions.WithRetry) is never used and its circuit breaker is left
        // unset (none): Polly's breaker below is the only one, so they do not stack.
        Multiplexer = ConnectionMultiplexer.Connect(configuration);
        Deployment = Detect(endpoint, Multiplexer, logger);
        Database = Multiplexer.GetDatabase();
        Subscriber = Multiplexer.GetSubscriber();
        WaitForSubscriptionConnection(configuration.ConnectTimeout);
        Timeout = timeout;
        _pipeline = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 2,
                SamplingDuration = TimeSpan.FromSeconds(Math.Max(2, timeout.TotalSeconds * 4)),
                BreakDuration = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds, 500, 5000)),
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not BrokenCircuitException),
                OnOpened = _ =>
                {
                    _health.CircuitState = BackplaneCircuitState.Open;
                    _logger.LogWarning("redis circuit opened: cross-node traffic is dropped until it answers again");
                    return default;
                },
                OnClosed = _ =>
                {
                    _health.CircuitState = BackplaneCircuitState.Closed;
                    _logger.LogInformation("redis circuit closed");
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    _health.CircuitState = BackplaneCircuitState.HalfOpen;
                    return default;
                },
            })
            .AddTimeout(timeout)
            .Build();
    }

    public ConnectionMultiplexer Multiplexer { get; }

    /// <summary>The deployment found at connect; it decides key layout and pub/sub kind for the process's life.</summary>
    public RedisDeployment Deployment { get; }

    public IDatabase Database { get; }

    public ISubscriber Subscriber { get; }

    public TimeSpan Timeout { get; }

    /// <summary>CLIENT SETNAME of this node's connections (the setting's name=, else presenced-node_id).</summary>
    public string ClientName { get; }

    /// <summary>Raised after a call failed, timed out or was refused by the open circuit.</summary>
    public event Action<Exception>? Failed;

    /// <summary>Runs <paramref name="call"/> with the timeout and the breaker; throws when it did not succeed.</summary>
    public async Task<T> RunAsync<TState, T>(TState state, Func<IDatabase, TState, Task<T>> call)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            T result = await _pipeline.ExecuteAsync(
                static async (context, token) => await context.call(context.db, context.state).WaitAsync(token).ConfigureAwait(false),
                (call, db: Database, state),
                CancellationToken.None).ConfigureAwait(false);
            _health.RecordLatency(Stopwatch.GetElapsedTime(started));
            return result;
        }
        catch (Exception e)
        {
            _health.CountFailure();
            Failed?.Invoke(e);
            throw;
        }
    }

    /// <summary>Awaits a call already issued (e.g. a subscribe sent under a lock) with the same policy.</summary>
    public Task RunIssuedAsync(Task issued) => RunAsync(issued, static async (_, task) =>
    {
        await task.ConfigureAwait(false);
        return true;
    });

    public void Dispose() => Multiplexer.Dispose();

    /// <summary>
    /// Sentinel from the setting; a Redis Cluster when the setting says so (cluster://) or any server answered as a
    /// cluster node; else one server. A seed list of which no server answers at start is taken for one server: use
    /// cluster:// when the nodes may start before the cluster does.
    /// </summary>
    // Without a configuration channel, Connect returns before the library's subscription connection is up, and with
    // FailFast a SUBSCRIBE fails until it is: every start (the warm-up's JOIN) went degraded until the first resync.
    // So the start waits for it, bounded by the connect timeout (a Redis that is down is not waited for twice).
    private void WaitForSubscriptionConnection(int timeoutMs)
    {
        if (!Multiplexer.IsConnected) return;
        long deadline = Environment.TickCount64 + timeoutMs;
        while (!Subscriber.IsConnected() && Environment.TickCount64 < deadline) Thread.Sleep(5);
    }

    private static RedisDeployment Detect(RedisEndpoint endpoint, ConnectionMultiplexer multiplexer, ILogger logger)
    {
        if (endpoint.Form == RedisEndpointForm.Sentinel) return new RedisDeployment(RedisDeploymentKind.Sentinel, endpoint.ServiceName, 1);
        IServer[] servers = multiplexer.GetServers();
        bool cluster = endpoint.Form == RedisEndpointForm.Cluster || servers.Any(s => s.IsConnected && s.ServerType == ServerType.Cluster);
        if (!cluster)
        {
            if (!multiplexer.IsConnected) logger.LogWarning("no redis server answered at start: taken for a single server (write cluster://{Seeds} for a Redis Cluster)", endpoint.Configuration);
            return new RedisDeployment(RedisDeploymentKind.SingleServer, null, 1);
        }
        return new RedisDeployment(RedisDeploymentKind.Cluster, null, servers.Count(s => s.IsConnected && !s.IsReplica));
    }
}
