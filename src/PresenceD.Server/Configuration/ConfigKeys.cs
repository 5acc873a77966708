using Microsoft.Extensions.Logging;
using static PresenceD.Server.Configuration.ConfigValues;

namespace PresenceD.Server.Configuration;

/// <summary>The table of every presenced.conf key, in the order presenced.conf and --check-config list them.</summary>
internal static class ConfigKeys
{
    public const string DefaultSource = "default";

    private const int MaxFrameCeiling = 16 * 1024 * 1024;

    private static readonly (string, AuthMode)[] AuthChoices = [("none", AuthMode.None), ("jwt", AuthMode.Jwt)];
    private static readonly (string, OnlineVisibility)[] VisibilityChoices =
        [("all", OnlineVisibility.All), ("shared_rooms", OnlineVisibility.SharedRooms), ("claim", OnlineVisibility.Claim)];
    private static readonly (string, IoEngine)[] IoEngineChoices = [("epoll", IoEngine.Epoll), ("io_uring", IoEngine.IoUring)];
    private static readonly (string, TlsMode)[] TlsChoices = [("off", TlsMode.Off), ("on", TlsMode.On), ("optional", TlsMode.Optional)];
    private static readonly (string, System.Security.Authentication.SslProtocols)[] TlsVersionChoices =
        [("1.2", System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13), ("1.3", System.Security.Authentication.SslProtocols.Tls13)];
    private static readonly (string, BackplaneKind)[] BackplaneChoices = [("memory", BackplaneKind.Memory), ("redis", BackplaneKind.Redis)];
    private static readonly (string, LogLevel)[] LogLevelChoices =
        [("trace", LogLevel.Trace), ("debug", LogLevel.Debug), ("info", LogLevel.Information), ("warning", LogLevel.Warning), ("error", LogLevel.Error)];

    public static readonly IReadOnlyList<ConfigKey> All =
    [
        Text("bind", "Address the client port (and, when admin_bind is empty, the admin port) listens on: an IP address, or a host name resolved at start (to its first IPv4 address, else its first address).", false, ParseHost, o => o.Bind, (o, v) => o.Bind = v),
        Number("port", "TCP port for clients (1-65535).", false, t => ParsePort(t, allowZero: false), o => o.Port, (o, v) => o.Port = v),
        Number("admin_port", "HTTP port for /metrics, /healthz and /readyz on the admin_bind address (0-65535; 0 = off); must differ from port.", false, t => ParsePort(t, allowZero: true), o => o.AdminPort, (o, v) => o.AdminPort = v),
        Text("admin_bind", "Address the admin port listens on, so scrapers can reach it on another address than clients (e.g. a private network): an IP address or a host name, resolved like bind; empty = the same as bind.", false, t => t.Length == 0 ? t : ParseHost(t), o => o.AdminBind, (o, v) => o.AdminBind = v),
        Number("max_connections", "Most open client connections, counted from accept (1-10000000); more are refused with GOAWAY LIMIT.", true, t => ParseInt(t, 1, 10_000_000), o => o.MaxConnections, (o, v) => o.MaxConnections = v),
        Size("max_frame", "Largest client frame body accepted (64b-16mb); a longer one is a protocol error that closes the connection.", true, t => ParseIntSize(t, 64, MaxFrameCeiling), o => o.MaxFrame, (o, v) => o.MaxFrame = v),
        Duration("heartbeat_interval", "How often clients must send a frame, told to them in WELCOME as heartbeat_ms (at least 1ms).", true, Positive, o => o.HeartbeatInterval, (o, v) => o.HeartbeatInterval = v),
        Duration("heartbeat_timeout", "Time without a complete client frame after which a connection is closed with GOAWAY TIMEOUT (at least 1ms); must exceed heartbeat_interval.", true, Positive, o => o.HeartbeatTimeout, (o, v) => o.HeartbeatTimeout = v),
        Duration("frame_timeout", "Time a client frame may take from its first byte to its last, after HELLO (0s = the same as heartbeat_timeout; else from timer_tick to heartbeat_timeout); past it the connection is closed with GOAWAY TIMEOUT. Only a complete frame counts as a heartbeat.", true, NonNegative, o => o.FrameTimeout, (o, v) => o.FrameTimeout = v),
        Duration("hello_timeout", "Time a new connection has to send HELLO (at least 1ms); with proxy_protocol on, also the time it has to send its PROXY header.", true, Positive, o => o.HelloTimeout, (o, v) => o.HelloTimeout = v),
        Duration("close_linger", "After a GOAWAY (or BYE) is written, how long the server keeps reading and discarding what the client still sends, its sending side shut, before it closes the socket, so the kernel does not reset the connection and destroy the GOAWAY (0s-1m; 0s = close at once).", true, t => AtMost(NonNegative(t), TimeSpan.FromMinutes(1), t), o => o.CloseLinger, (o, v) => o.CloseLinger = v),
        LongSize("send_queue_limit", "Outbound bytes queued for one connection (replies included) past which it is closed as a slow consumer; at least max_frame.", true, t => ParseSize(t), o => o.SendQueueLimit, (o, v) => o.SendQueueLimit = v),
        Duration("resume_window", "How long a resumable connection that ended without BYE (closed, broken, heartbeat or frame timeout) stays suspended, its presence kept and its rooms' frames held, waiting for a HELLO with its resume token (0s = off: no session is resumable; else at least 1ms, at most 1h). Its leave and wills come this much later.", true, t => AtMost(NonNegative(t), TimeSpan.FromHours(1), t), o => o.ResumeWindow, (o, v) => o.ResumeWindow = v),
        Duration("resume_handover_timeout", "How long a resume that reaches another node than the session's may take (cluster; 1ms-1m): the new node asking for it, every room's cut, the held frames. Past it the new node's HELLO gets a fresh session, and each node ends its part of the old one the normal way (wills, then leaves).", true, t => AtMost(Positive(t), TimeSpan.FromMinutes(1), t), o => o.ResumeHandoverTimeout, (o, v) => o.ResumeHandoverTimeout = v),
        LongSize("resume_buffer", "Bytes of room frames (MESSAGE, PRESENCE_DIFF) held for one suspended connection (1kb up to send_queue_limit); past it the suspended session ends the normal way (wills, then leaves).", true, t => ParseSize(t), o => o.ResumeBuffer, (o, v) => o.ResumeBuffer = v),
        Number("resume_max_sessions", "Most sessions suspended at once on this node (0-10000000; 0 = no cap); a resumable connection that drops past it is not suspended but ends the normal way (wills, then leaves), counted in presenced_sessions_refused_total. Held bytes are at most resume_buffer times this.", true, t => ParseInt(t, 0, 10_000_000), o => o.ResumeMaxSessions, (o, v) => o.ResumeMaxSessions = v),
        LongSize("buffer_pool_max", "Most bytes the send and receive buffer pools keep for reuse between bursts (a size); returns past it go to the GC.", true, t => ParseSize(t), o => o.BufferPoolMax, (o, v) => o.BufferPoolMax = v),
        Duration("buffer_pool_trim_interval", "How often pooled buffers not used since the last trim are released, and memory given back to the OS after a burst (0 = never; else at least timer_tick).", true, NonNegative, o => o.BufferPoolTrimInterval, (o, v) => o.BufferPoolTrimInterval = v),
        Number("max_rooms_per_connection", "Most rooms one connection may be in (1-1000000); a JOIN over it is answered LIMIT.", true, t => ParseInt(t, 1, 1_000_000), o => o.MaxRoomsPerConnection, (o, v) => o.MaxRoomsPerConnection = v),
        Size("meta_max", "Largest member meta in JOIN and UPDATE (0-16mb); larger is TOO_LARGE.", true, t => ParseIntSize(t, 0, MaxFrameCeiling), o => o.MetaMax, (o, v) => o.MetaMax = v),
        Number("name_max", "Longest room name or user id, in bytes of UTF-8 (1-65535).", false, t => ParseInt(t, 1, 65_535), o => o.NameMax, (o, v) => o.NameMax = v),
        Number("presence_limit", "Most members listed in one JOINED or PRESENCE_STATE snapshot (0-1000000); JOINED always lists the joiner.", true, t => ParseInt(t, 0, 1_000_000), o => o.PresenceLimit, (o, v) => o.PresenceLimit = v),
        Number("online_max", "Most users one ONLINE query may ask about (0-1000000); more is BAD_REQUEST.", true, t => ParseInt(t, 0, 1_000_000), o => o.OnlineMax, (o, v) => o.OnlineMax = v),
        Number("publish_rate", "Messages per second one connection may publish, as a token bucket (0-10000000; 0 = unlimited).", true, t => ParseInt(t, 0, 10_000_000), o => o.PublishRate, (o, v) => o.PublishRate = v),
        Number("publish_burst", "Size of the publish_rate token bucket (0-10000000; 0 = the same as publish_rate); needs a non-zero publish_rate.", true, t => ParseInt(t, 0, 10_000_000), o => o.PublishBurst, (o, v) => o.PublishBurst = v),
        Choice("auth", "Client authentication: none (the HELLO credential is the user id) or jwt (a token signed HS256, RS256 or ES256).", false, AuthChoices, o => o.Auth, (o, v) => o.Auth = v),
        Text("jwt_secret_file", "File holding the HS256 secret (its bytes without trailing spaces, tabs, CR and LF); with auth jwt, this or jwt_public_key_file (or both) is required; re-read on SIGHUP; relative to the working directory.", false, t => t, o => o.JwtSecretFile, (o, v) => o.JwtSecretFile = v),
        Text("jwt_public_key_file", "File of public keys for RS256 and ES256 tokens: PEM (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE blocks) or a JWKS document; a token's kid picks the JWK with that kid; re-read on SIGHUP; relative to the working directory.", false, t => t, o => o.JwtPublicKeyFile, (o, v) => o.JwtPublicKeyFile = v),
        Duration("jwt_leeway", "Clock skew allowed when checking token expiry (0s or more).", true, NonNegative, o => o.JwtLeeway, (o, v) => o.JwtLeeway = v),
        Choice("online_visibility", "Whom ONLINE may report: all (every user), shared_rooms (the asker and users sharing a room with it now, cluster-wide), or claim (the JWT see claim: user patterns and @shared_rooms; without it as shared_rooms; needs auth jwt). A hidden user is reported exactly as an offline one.", false, VisibilityChoices, o => o.OnlineVisibility, (o, v) => o.OnlineVisibility = v),
        Text("history_rooms", "Rooms that keep message history: comma separated names or prefixes ending in '*' ('*' alone: every room); empty = none.", true, ParseHistoryRooms, o => o.HistoryRooms, (o, v) => o.HistoryRooms = v),
        Number("history_size", "Messages kept per history room (1-1000000).", true, t => ParseInt(t, 1, 1_000_000), o => o.HistorySize, (o, v) => o.HistorySize = v),
        Duration("history_ttl", "How long a history message is kept (at least 1ms); in a cluster a room's whole history expires this long after its last message.", true, Positive, o => o.HistoryTtl, (o, v) => o.HistoryTtl = v),
        Choice("backplane", "memory (standalone) or redis (cluster).", false, BackplaneChoices, o => o.Backplane, (o, v) => o.Backplane = v),
        Text("redis", "Redis for backplane redis, without spaces: host:port[,options] in StackExchange.Redis syntax (one server, or a Redis Cluster's seeds h1:7000,h2:7001, detected at connect); Sentinels h1:26379,h2:26379,serviceName=mymaster or sentinel://h1:26379,h2:26379/mymaster; cluster://h1:7000,h2:7001 (see docs/cluster.md).", false, ParseRedis, o => o.Redis, (o, v) => o.Redis = v),
        Duration("redis_timeout", "Timeout of each Redis call (at least 1ms).", false, Positive, o => o.RedisTimeout, (o, v) => o.RedisTimeout = v),
        Duration("sweep_interval", "How often a cluster node refreshes its members' expiry in Redis and sweeps expired members (at least 1ms).", true, Positive, o => o.SweepInterval, (o, v) => o.SweepInterval = v),
        Duration("subscription_audit_interval", "How often a cluster node compares the room channels it should hold with what each Redis server counts for it, and re-subscribes any gap (at least 1ms).", true, Positive, o => o.SubscriptionAuditInterval, (o, v) => o.SubscriptionAuditInterval = v),
        Text("node_id", "This node's id, up to 64 of A-Z a-z 0-9 - _ . (empty = the host name and 8 random hex digits, new at each start).", false, ParseNodeId, o => o.NodeId, (o, v) => o.NodeId = v),
        Duration("drain_timeout", "On SIGTERM or SIGINT, how long the drain waits for connections to close after their GOAWAY SHUTDOWN before it cuts the rest (0s or more); also the top of SHUTDOWN's reconnect hint.", true, NonNegative, o => o.DrainTimeout, (o, v) => o.DrainTimeout = v),
        Choice("proxy_protocol", "on: every connection must start with a PROXY protocol v1 or v2 header; off: none is read (yes, no, true and false work too).", false, [("off", false), ("on", true)], o => o.ProxyProtocol, (o, v) => o.ProxyProtocol = v, ParseBool),
        Choice("tls", "TLS on the client port: off (plain TCP), on (TLS only), or optional (TLS or plain, told apart by the connection's first byte, 0x16 being a TLS handshake; for migrations); on and optional need tls_cert_file and tls_key_file. The handshake must finish within hello_timeout.", false, TlsChoices, o => o.Tls, (o, v) => o.Tls = v),
        Text("tls_cert_file", "PEM file of the server's certificate, followed by any intermediate certificates (the chain clients are sent); re-read on SIGHUP, so certificates rotate without a restart (new handshakes use the new one, open connections stay); relative to the working directory.", false, t => t, o => o.TlsCertFile, (o, v) => o.TlsCertFile = v),
        Text("tls_key_file", "PEM file of tls_cert_file's private key (PKCS#8, RSA or EC, unencrypted); re-read on SIGHUP with tls_cert_file; relative to the working directory.", false, t => t, o => o.TlsKeyFile, (o, v) => o.TlsKeyFile = v),
        Choice("tls_min_version", "Lowest TLS version a client may use, on the client port and the admin port: 1.2 (1.2 and 1.3) or 1.3.", false, TlsVersionChoices, o => o.TlsProtocols, (o, v) => o.TlsProtocols = v),
        Choice("admin_tls", "TLS on the admin port, with the client port's tls_cert_file, tls_key_file and tls_min_version: off (plain HTTP), on (HTTPS only), or optional (HTTPS or plain HTTP on the one port, told apart by the first byte; yes, no, true and false work too).", false, TlsChoices, o => o.AdminTls, (o, v) => o.AdminTls = v, ParseAdminTls),
        Choice("io_engine", "How sends reach the sockets: io_uring (the sends of every connection a batch touched go to the kernel in one io_uring_enter; where the kernel or a container refuses io_uring, the server logs why at start and uses epoll) or epoll (one send(2) per connection).", false, IoEngineChoices, o => o.IoEngine, (o, v) => o.IoEngine = v),
        Choice("log_level", "Log level: trace, debug, info, warning or error.", true, LogLevelChoices, o => o.LogLevel, (o, v) => o.LogLevel = v),
        Duration("timer_tick", "Resolution of the timer wheel that runs the HELLO, heartbeat and token timeouts (at least 1ms); at most heartbeat_interval and hello_timeout.", false, t => AtLeast(t, TimeSpan.FromMilliseconds(1)), o => o.TimerTick, (o, v) => o.TimerTick = v),
    ];

    private static readonly Dictionary<string, ConfigKey> ByName = All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    public static ConfigKey? Find(string name) => ByName.GetValueOrDefault(name);

    // Kept as written (--check-config shows the alias); the backplane parses it again at start.
    private static string ParseRedis(string text)
    {
        RedisEndpoint.Parse(ParseToken(text, allowEmpty: false, "redis endpoint"));
        return text;
    }

    private static TimeSpan Positive(string text) => AtLeast(text, TimeSpan.FromMilliseconds(1));

    private static TimeSpan NonNegative(string text) => ParseDuration(text);

    private static TimeSpan AtMost(TimeSpan value, TimeSpan max, string text)
    {
        if (value > max)
        {
            throw new FormatException($"'{text}' must be at most {FormatDuration(max)}");
        }

        return value;
    }

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
