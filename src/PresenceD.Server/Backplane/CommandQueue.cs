using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Rooms;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// The node's one ordered stream of writes to Redis: publishes and presence scripts are queued without
/// blocking (the caller may hold a room lock) and one writer loop sends whatever accumulated as a single
/// pipelined batch, then awaits it (timeout + breaker). Under load a batch carries many messages, so
/// Redis round trips per message fall well below one; order is kept because there is one writer and
/// StackExchange.Redis sends a batch contiguously on its one connection.
/// </summary>
internal sealed class CommandQueue
{
    // Most commands per pipelined batch: large enough that a burst costs few round trips, small enough that one
    // batch never holds Redis (single-threaded) for long; not a setting, since neither bound depends on the deployment.
    private const int MaxBatch = 512;

    private readonly Channel<BackplaneCommand> _queue = Channel.CreateUnbounded<BackplaneCommand>(new UnboundedChannelOptions { SingleReader = true });
    private readonly RedisGateway _gateway;
    private readonly BackplaneHealth _health;
    private readonly ILogger _logger;
    private readonly Action<BackplaneCommand> _onLeaveLost;
    private readonly int _limit;
    private int _pending;
    private Task _writer = Task.CompletedTask;

    public CommandQueue(RedisGateway gateway, BackplaneHealth health, ILogger logger, Action<BackplaneCommand> onLeaveLost, int limit)
    {
        _gateway = gateway;
        _health = health;
        _logger = logger;
        _onLeaveLost = onLeaveLost;
        _limit = limit;
    }

    /// <summary>Items queued and not yet sent.</summary>
    public int Pending => Volatile.Read(ref _pending);

    public void Start() => _writer = Task.Run(WriteLoopAsync);

    /// <summary>Queues <paramref name="command"/>; false (counted as dropped) when the queue is over its limit.</summary>
    public bool TryEnqueue(in BackplaneCommand command)
    {
        if (Interlocked.Increment(ref _pending) > _limit)
        {
            Interlocked.Decrement(ref _pending);
            Lost(command);
            return false;
        }
        if (_queue.Writer.TryWrite(command)) return true;
        Interlocked.Decrement(ref _pending);
        return false;
    }

    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _writer.WaitAsync(_gateway.Timeout * 2).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<BackplaneCommand>(MaxBatch);
        ChannelReader<BackplaneCommand> reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out BackplaneCommand command)) batch.Add(command);
            Interlocked.Add(ref _pending, -batch.Count);
            if (_health.State == BackplaneState.Degraded)
            {
                // Known down: do not wait a timeout per batch; the resync after recovery rewrites presence.
                foreach (BackplaneCommand command in batch) Lost(command);
            }
            else
            {
                await SendAsync(batch).ConfigureAwait(false);
            }
            batch.Clear();
        }
    }

    private async Task SendAsync(List<BackplaneCommand> batch)
    {
        try
        {
            await _gateway.RunAsync(batch, static (db, commands) =>
            {
                IBatch redisBatch = db.CreateBatch();
                var sent = new Task[commands.Count];
                for (int i = 0; i < sent.Length; i++) sent[i] = commands[i].Issue(redisBatch);
                redisBatch.Execute();
                return Task.WhenAll(sent).ContinueWith(static t => t.IsCompletedSuccessfully ? true : throw t.Exception!.GetBaseException(), TaskScheduler.Default);
            }).ConfigureAwait(false);
            _health.CountPublished(batch.Count);
            foreach (BackplaneCommand command in batch) command.Done?.TrySetResult(true);
        }
        catch (Exception e)
        {
            _logger.LogDebug("redis batch of {Count} failed: {Error}", batch.Count, e.Message);
            foreach (BackplaneCommand command in batch) Lost(command);
        }
    }

    private void Lost(in BackplaneCommand command)
    {
        if (command.Kind == CommandKind.Barrier)
        {
            command.Done?.TrySetResult(false);
            return;
        }
        _health.CountDropped(1);
        if (command.Kind == CommandKind.Leave) _onLeaveLost(command);
    }
}
