using Microsoft.Extensions.Logging;

namespace PresenceD.Server.Configuration;

/// <summary>
/// Every server setting, one property per presenced.conf key (PascalCase of the key). The
/// initial values are the defaults; <see cref="ConfigKeys"/> describes, parses and prints them.
/// </summary>
internal sealed class ServerOptions
{
    private Dictionary<string, string> _sources = new(StringComparer.Ordinal);

    public string Bind { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 7400;

    public int AdminPort { get; set; }

    /// <summary>As configured; empty means the same as <see cref="Bind"/> (see <see cref="EffectiveAdminBind"/>).</summary>
    public string AdminBind { get; set; } = "";

    /// <summary>The address the admin port listens on: <see cref="AdminBind"/>, or <see cref="Bind"/> when that is empty.</summary>
    public string EffectiveAdminBind => AdminBind.Length > 0 ? AdminBind : Bind;

    public int MaxConnections { get; set; } = 100_000;

    public int MaxFrame { get; set; } = 64 * 1024;

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>As configured; zero means the same as <see cref="HeartbeatTimeout"/> (see <see cref="EffectiveFrameTimeout"/>).</summary>
    public TimeSpan FrameTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>The bound on one frame in force: <see cref="FrameTimeout"/>, or <see cref="HeartbeatTimeout"/> when that is zero.</summary>
    public TimeSpan EffectiveFrameTimeout => FrameTimeout > TimeSpan.Zero ? FrameTimeout : HeartbeatTimeout;

    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan CloseLinger { get; set; } = TimeSpan.FromSeconds(2);

    public long SendQueueLimit { get; set; } = 1024 * 1024;

    /// <summary>How long a suspended resumable session waits for its resume (zero: sessions are never resumable).</summary>
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan ResumeHandoverTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Room frames held per suspended session.</summary>
    public long ResumeBuffer { get; set; } = 256 * 1024;

    /// <summary>Most sessions suspended at once (0: no cap); past it a dropped resumable connection ends at once.</summary>
    public int ResumeMaxSessions { get; set; } = 100_000;

    public long BufferPoolMax { get; set; } = 64 * 1024 * 1024;

    /// <summary>Zero = never trim.</summary>
    public TimeSpan BufferPoolTrimInterval { get; set; } = TimeSpan.FromSeconds(10);

    public int MaxRoomsPerConnection { get; set; } = 64;

    public int MetaMax { get; set; } = 1024;

    public int NameMax { get; set; } = 128;

    public int PresenceLimit { get; set; } = 1000;

    public int OnlineMax { get; set; } = 1000;

    /// <summary>Messages per second per connection; 0 = unlimited.</summary>
    public int PublishRate { get; set; }

    /// <summary>Token bucket size; 0 = same as <see cref="PublishRate"/>.</summary>
    public int PublishBurst { get; set; }

    public AuthMode Auth { get; set; } = AuthMode.None;

    public OnlineVisibility OnlineVisibility { get; set; } = OnlineVisibility.All;

    public string JwtSecretFile { get; set; } = "";

    public string JwtPublicKeyFile { get; set; } = "";

    public TimeSpan JwtLeeway { get; set; } = TimeSpan.Zero;

    public string HistoryRooms { get; set; } = "";

    public int HistorySize { get; set; } = 100;

    public TimeSpan HistoryTtl { get; set; } = TimeSpan.FromMinutes(10);

    public BackplaneKind Backplane { get; set; } = BackplaneKind.Memory;

    public string Redis { get; set; } = "127.0.0.1:6379";

    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan SubscriptionAuditInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>As configured; empty means generated (see <see cref="EffectiveNodeId"/>).</summary>
    public string NodeId { get; set; } = "";

    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool ProxyProtocol { get; set; }

    public IoEngine IoEngine { get; set; } = IoEngine.IoUring;

    public TlsMode Tls { get; set; }

    public string TlsCertFile { get; set; } = "";

    public string TlsKeyFile { get; set; } = "";

    /// <summary>The TLS versions accepted (tls_min_version and above).</summary>
    public System.Security.Authentication.SslProtocols TlsProtocols { get; set; } = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;

    public TlsMode AdminTls { get; set; }

    /// <summary>True when a port serves TLS, so the certificate must be loaded.</summary>
    public bool UsesTls => Tls != TlsMode.Off || (AdminTls != TlsMode.Off && AdminPort != 0);

    public LogLevel LogLevel { get; set; } = LogLevel.Information;

    public TimeSpan TimerTick { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The node id in use: <see cref="NodeId"/>, or one generated when the options were loaded.</summary>
    public string EffectiveNodeId { get; set; } = "";

    public ConfigCommand Command { get; set; } = ConfigCommand.Run;

    /// <summary>PRESENCED_* environment variables that name no key (ignored, reported at startup).</summary>
    public List<string> IgnoredEnvironment { get; } = [];

    /// <summary>The config file path as given on the command line, or null when none was given.</summary>
    public string? ConfigFile { get; set; }

    /// <summary>Key -> where its value came from ("default", "presenced.conf:12", "environment PRESENCED_PORT", ...).</summary>
    public IReadOnlyDictionary<string, string> Sources => _sources;

    public string SourceOf(string key) => _sources.TryGetValue(key, out string? source) ? source : ConfigKeys.DefaultSource;

    internal void SetSource(string key, string source) => _sources[key] = source;

    public ServerOptions Clone()
    {
        var clone = (ServerOptions)MemberwiseClone();
        clone._sources = new Dictionary<string, string>(_sources, StringComparer.Ordinal);
        return clone;
    }
}
