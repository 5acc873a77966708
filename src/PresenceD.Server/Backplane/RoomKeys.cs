using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// The Redis names of one room, built once when the room opens on this node, every one hash-tagged on the room name
/// (<see cref="HashSlots.Tag"/>) so they share one slot on a Redis Cluster: `pd:r:{room}` channel (sharded on a
/// cluster), `pd:z:{room}` sorted set conn -> expiry (cluster clock ms), `pd:m:{room}` hash conn -> stored leave
/// envelope, `pd:s:{room}` history stream, `pd:e:{room}` history epoch and counter, and the clock of their slot.
/// </summary>
internal sealed class RoomKeys
{
    public const string ChannelPrefix = "pd:r:";

    public RoomKeys(string room, RedisDeployment deployment)
    {
        Room = room;
        string tag = HashSlots.Tag(room);
        string channel = ChannelPrefix + tag;
        Channel = deployment.IsCluster ? RedisChannel.Sharded(channel) : RedisChannel.Literal(channel);
        ChannelName = channel;
        string members = "pd:z:" + tag;
        Members = [(RedisKey)members, (RedisKey)("pd:m:" + tag), (RedisKey)deployment.ClockFor(members)];
        History = [(RedisKey)("pd:s:" + tag), (RedisKey)("pd:e:" + tag)];
    }

    public string Room { get; }

    public RedisChannel Channel { get; }

    /// <summary>The channel name as a script argument (scripts PUBLISH or SPUBLISH to it).</summary>
    public RedisValue ChannelName { get; }

    /// <summary>KEYS of the presence scripts: the expiry set, the member hash and the slot's clock.</summary>
    public RedisKey[] Members { get; }

    /// <summary>KEYS of the history scripts: the stream and its epoch/counter hash.</summary>
    public RedisKey[] History { get; }
}
