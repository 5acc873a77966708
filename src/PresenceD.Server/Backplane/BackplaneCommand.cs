using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>What the writer loop sends for one queued item: a PUBLISH or a script call.</summary>
internal enum CommandKind : byte
{
    /// <summary>PUBLISH of a message envelope.</summary>
    Publish,
    /// <summary>A history room's PUBLISH (a script that assigns the offset); lost like a publish when Redis is down.</summary>
    HistoryPublish,
    /// <summary>A presence script whose loss is healed by the next resync or refresh (upsert, online, offline).</summary>
    Presence,
    /// <summary>A leave script: kept and replayed after an outage, else the member's stored will would be swept out later.</summary>
    Leave,
    /// <summary>Not a command: completes when everything queued before it was sent (true) or failed (false).</summary>
    Barrier,
}

/// <summary>One queued Redis command. Script calls carry their keys and arguments; publishes their channel and envelope.</summary>
internal readonly record struct BackplaneCommand(CommandKind Kind, RedisChannel Channel, RedisValue Payload, string? Script, RedisKey[]? Keys, RedisValue[]? Args,
    TaskCompletionSource<bool>? Done = null)
{
    public static BackplaneCommand Publish(RedisChannel channel, byte[] envelope) => new(CommandKind.Publish, channel, envelope, null, null, null);

    public static BackplaneCommand Run(CommandKind kind, string script, RedisKey[] keys, RedisValue[] args) => new(kind, default, default, script, keys, args);

    public static BackplaneCommand Barrier(TaskCompletionSource<bool> done) => new(CommandKind.Barrier, default, default, null, null, null, done);

    public Task Issue(IBatch batch) => Kind switch
    {
        CommandKind.Publish => batch.PublishAsync(Channel, Payload),
        CommandKind.Barrier => Task.CompletedTask,
        _ => batch.ScriptEvaluateAsync(Script!, Keys, Args),
    };
}
