using Microsoft.Extensions.Logging;
using PresenceD.Server.History;
using static PresenceD.Server.Configuration.ConfigValues;

namespace PresenceD.Server.Configuration;

/// <summary>The table of every presenced.conf key, in the order presenced.conf and --check-config list them.</summary>
internal static class ConfigKeys
{
    public const string DefaultSource = "default";

    private const int MaxFrameCeiling = 16 * 1024 * 1024;

    private static readonly (string, AuthMode)[] AuthChoices = [("none", AuthMode.None), ("jwt", AuthMode.Jwt)];
    private static readonly (string, BackplaneKind)[] BackplaneChoices = [("memory", BackplaneKind.Memory), ("redis", BackplaneKind.Redis)];
    private static readonly (string, LogLevel)[] LogLevelChoices =
        [("trace", LogLevel.Trace), ("debug", LogLevel.Debug), ("info", LogLevel.Information), ("warning", LogLevel.Warning), ("error", LogLevel.Error)];

    public static readonly IReadOnlyList<ConfigKey> All =
    [
        Text("bind", "Address to listen on for clients (IP address or host name).", false, ParseHost, o => o.Bind, (o, v) => o.Bind = v),
        Number("port", "TCP port for clients.", false, t => ParsePort(t, allowZero: false), o => o.Port, (o, v) => o.Port = v),
        Number("admin_port", "HTTP port for /metrics and /healthz on the bind address; 0 = off.", false, t => ParsePort(t, allowZero: true), o => o.AdminPort, (o, v) => o.AdminPort = v),
        Number("max_connections", "Most concurrent client connections; more are refused with GOAWAY LIMIT.", true, t => ParseInt(t, 1, 10_000_000), o => o.MaxConnections, (o, v) => o.MaxConnections = v),
        Size("max_frame", "Largest client frame body accepted (size).", true, t => ParseIntSize(t, 64, MaxFrameCeiling), o => o.MaxFrame, (o, v) => o.MaxFrame = v),
        Duration("heartbeat_interval", "How often clients are told to PING (duration).", true, Positive, o => o.HeartbeatInterval, (o, v) => o.HeartbeatInterval = v),
        Duration("heartbeat_timeout", "Silence after which a connection is closed; must exceed heartbeat_interval.", true, Positive, o => o.HeartbeatTimeout, (o, v) => o.HeartbeatTimeout = v),
        Duration("hello_timeout", "Time a new connection has to send HELLO.", true, Positive, o => o.HelloTimeout, (o, v) => o.HelloTimeout = v),
        LongSize("send_queue_limit", "Queued outbound bytes after which a connection is a slow consumer; at least max_frame.", true, t => ParseSize(t), o => o.SendQueueLimit, (o, v) => o.SendQueueLimit = v),
        LongSize("buffer_pool_max", "Most bytes the send and receive buffer pools keep for reuse between bursts; returns past it go to the GC.", true, t => ParseSize(t), o => o.BufferPoolMax, (o, v) => o.BufferPoolMax = v),
        Duration("buffer_pool_trim_interval", "How often pooled buffers not used since the last trim are released; 0 = never.", true, NonNegative, o => o.BufferPoolTrimInterval, (o, v) => o.BufferPoolTrimInterval = v),
        Number("max_rooms_per_connection", "Most rooms one connection may be in.", true, t => ParseInt(t, 1, 1_000_000), o => o.MaxRoomsPerConnection, (o, v) => o.MaxRoomsPerConnection = v),
        Size("meta_max", "Largest member meta (size).", true, t => ParseIntSize(t, 0, MaxFrameCeiling), o => o.MetaMax, (o, v) => o.MetaMax = v),
        Number("name_max", "Longest room or user name, in bytes of UTF-8.", false, t => ParseInt(t, 1, 65_535), o => o.NameMax, (o, v) => o.NameMax = v),
        Number("presence_limit", "Most members listed in a JOINED or PRESENCE_STATE snapshot.", true, t => ParseInt(t, 0, 1_000_000), o => o.PresenceLimit, (o, v) => o.PresenceLimit = v),
        Number("online_max", "Most users one ONLINE query may ask about.", true, t => ParseInt(t, 0, 1_000_000), o => o.OnlineMax, (o, v) => o.OnlineMax = v),
        Number("publish_rate", "Messages per second one connection may publish; 0 = unlimited.", true, t => ParseInt(t, 0, 10_000_000), o => o.PublishRate, (o, v) => o.PublishRate = v),
        Number("publish_burst", "Publish burst allowance; 0 = same as publish_rate.", true, t => ParseInt(t, 0, 10_000_000), o => o.PublishBurst, (o, v) => o.PublishBurst = v),
        Choice("auth", "Client authentication: none (HELLO credential is the user name) or jwt (HS256 token).", false, AuthChoices, o => o.Auth, (o, v) => o.Auth = v),
        Text("jwt_secret_file", "File holding the HS256 secret; required with auth jwt (relative to the working directory).", false, t => t, o => o.JwtSecretFile, (o, v) => o.JwtSecretFile = v),
        Duration("jwt_leeway", "Clock skew allowed when checking token expiry.", true, NonNegative, o => o.JwtLeeway, (o, v) => o.JwtLeeway = v),
        Text("history_rooms", "Rooms that keep message history: comma separated names or prefixes ending in '*'; empty = none.", true, ParseHistoryRooms, o => o.HistoryRooms, (o, v) => o.HistoryRooms = v),
        Number("history_size", "Messages kept per history room.", true, t => ParseInt(t, 1, 1_000_000), o => o.HistorySize, (o, v) => o.HistorySize = v),
        Duration("history_ttl", "How long a history message is kept.", true, Positive, o => o.HistoryTtl, (o, v) => o.HistoryTtl = v),
        Choice("backplane", "memory (standalone) or redis (cluster).", false, BackplaneChoices, o => o.Backplane, (o, v) => o.Backplane = v),
        Text("redis", "Redis endpoint: host:port[,options] in StackExchange.Redis syntax.", false, t => ParseToken(t, allowEmpty: false, "redis endpoint"), o => o.Redis, (o, v) => o.Redis = v),
        Duration("redis_timeout", "Timeout of each Redis call.", false, Positive, o => o.RedisTimeout, (o, v) => o.RedisTimeout = v),
        Duration("sweep_interval", "How often expired cluster presence is swept and refreshed.", true, Positive, o => o.SweepInterval, (o, v) => o.SweepInterval = v),
        Text("node_id", "This node's id in the cluster; empty = generated at start.", false, ParseNodeId, o => o.NodeId, (o, v) => o.NodeId = v),
        Duration("drain_timeout", "On SIGTERM, how long connections get to leave before they are closed.", true, NonNegative, o => o.DrainTimeout, (o, v) => o.DrainTimeout = v),
        Choice("proxy_protocol", "Expect a PROXY protocol v1/v2 header on each connection (on|off).", false, [("off", false), ("on", true)], o => o.ProxyProtocol, (o, v) => o.ProxyProtocol = v, ParseBool),
        Choice("log_level", "trace|debug|info|warning|error.", true, LogLevelChoices, o => o.LogLevel, (o, v) => o.LogLevel = v),
        Duration("timer_tick", "Resolution of the timer wheel that runs heartbeats and timeouts.", false, t => AtLeast(t, TimeSpan.FromMilliseconds(1)), o => o.TimerTick, (o, v) => o.TimerTick = v),
    ];

    private static readonly Dictionary<string, ConfigKey> ByName = All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    public static ConfigKey? Find(string name) => ByName.GetValueOrDefault(name);

    private static TimeSpan Positive(string text) => AtLeast(text, TimeSpan.FromMilliseconds(1));

    private static TimeSpan NonNegative(string text) => ParseDuration(text);

    private static TimeSpan AtLeast(string text, TimeSpan min)
    {
        TimeSpan value = ParseDuration(text);
        if (value < min)
        {
            throw new FormatException($"'{text}' must be at least {FormatDuration(min)}");
        }

        return value;
    }

    private static string ParseHistoryRooms(string text)
    {
        RoomPatternSet.Parse(text);
        return RoomPatternSet.Normalize(text);
    }

    private static string ParseNodeId(string text)
    {
        if (text.Length > 64 || !text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new FormatException($"'{text}' is not a node id (up to 64 of A-Z a-z 0-9 - _ .)");
        }

        return text;
    }

    private static ConfigKey Text(string name, string description, bool reloadable, Func<string, string> parse, Func<ServerOptions, string> get, Action<ServerOptions, string> set)
        => ConfigKey.Create(name, description, reloadable, parse, v => v, get, set);

    private static ConfigKey Number(string name, string description, bool reloadable, Func<string, int> parse, Func<ServerOptions, int> get, Action<ServerOptions, int> set)
        => ConfigKey.Create(name, description, reloadable, parse, v => v.ToString(System.Globalization.CultureInfo.InvariantCulture), get, set);

    private static ConfigKey Size(string name, string description, bool reloadable, Func<string, int> parse, Func<ServerOptions, int> get, Action<ServerOptions, int> set)
        => ConfigKey.Create(name, description, reloadable, parse, v => FormatSize(v), get, set);

    private static ConfigKey LongSize(string name, string description, bool reloadable, Func<string, long> parse, Func<ServerOptions, long> get, Action<ServerOptions, long> set)
        => ConfigKey.Create(name, description, reloadable, parse, FormatSize, get, set);

    private static ConfigKey Duration(string name, string description, bool reloadable, Func<string, TimeSpan> parse, Func<ServerOptions, TimeSpan> get, Action<ServerOptions, TimeSpan> set)
        => ConfigKey.Create(name, description, reloadable, parse, FormatDuration, get, set);

    private static ConfigKey Choice<TEnum>(
        string name,
        string description,
        bool reloadable,
        (string, TEnum)[] choices,
        Func<ServerOptions, TEnum> get,
        Action<ServerOptions, TEnum> set,
        Func<string, TEnum>? parse = null)
        where TEnum : notnull
        => ConfigKey.Create(name, description, reloadable, parse ?? (t => ParseChoice(t, choices)), v => FormatChoice(v, choices), get, set);
}
