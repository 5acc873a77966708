using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// The Redis names of one room, built once when the room opens on this node. `pd:r:` channel,
/// `pd:z:` sorted set conn -> expiry (cluster clock ms), `pd:m:` hash conn -> stored leave envelope,
/// `pd:s:` history stream, `pd:e:` history epoch and counter.
/// </summary>
internal sealed class RoomKeys
{
    public const string ChannelPrefix = "pd:r:";

    public RoomKeys(string room)
    {
        Room = room;
        Channel = new RedisChannel(ChannelPrefix + room, RedisChannel.PatternMode.Literal);
        ChannelName = ChannelPrefix + room;
        Members = [(RedisKey)("pd:z:" + room), (RedisKey)("pd:m:" + room)];
        History = [(RedisKey)("pd:s:" + room), (RedisKey)("pd:e:" + room)];
    }

    public string Room { get; }

    public RedisChannel Channel { get; }

    /// <summary>The channel name as a script argument (scripts PUBLISH to it).</summary>
    public RedisValue ChannelName { get; }

    /// <summary>KEYS of the presence scripts: the expiry set and the member hash.</summary>
    public RedisKey[] Members { get; }

    /// <summary>KEYS of the history scripts: the stream and its epoch/counter hash.</summary>
    public RedisKey[] History { get; }
}
