namespace PresenceD.Server.Configuration;

/// <summary>Rules that involve more than one key; each error names where the offending value was set.</summary>
internal static class ConfigValidator
{
    /// <summary>The rules <see cref="Validate"/> checks, as docs/configuration.md states them (keep the two together).</summary>
    public static IReadOnlyList<string> Rules { get; } =
    [
        "`heartbeat_timeout` must be greater than `heartbeat_interval`.",
        "`timer_tick` must not exceed `heartbeat_interval` nor `hello_timeout`.",
        "`frame_timeout`, when not 0s, must be at least `timer_tick` and must not exceed `heartbeat_timeout`.",
        "`send_queue_limit` must be at least `max_frame`.",
        "`publish_burst` above 0 needs a non-zero `publish_rate`.",
        "`admin_port` must differ from `port`.",
        "`auth jwt` needs `jwt_secret_file` to name an existing file that holds more than whitespace.",
    ];

    public static void Validate(ServerOptions options)
    {
        if (options.HeartbeatTimeout <= options.HeartbeatInterval)
        {
            throw Error(options, "heartbeat_timeout", "must be greater than", "heartbeat_interval");
        }

        if (options.TimerTick > options.HeartbeatInterval)
        {
            throw Error(options, "timer_tick", "must not exceed", "heartbeat_interval");
        }

        if (options.TimerTick > options.HelloTimeout)
        {
            throw Error(options, "timer_tick", "must not exceed", "hello_timeout");
        }

        if (options.FrameTimeout > TimeSpan.Zero && options.FrameTimeout < options.TimerTick)
        {
            throw Error(options, "frame_timeout", "must be at least", "timer_tick");
        }

        if (options.FrameTimeout > options.HeartbeatTimeout)
        {
            throw Error(options, "frame_timeout", "must not exceed", "heartbeat_timeout");
        }

        if (options.SendQueueLimit < options.MaxFrame)
        {
            throw Error(options, "send_queue_limit", "must be at least", "max_frame");
        }

        // The held frames go into the resumed connection's queue in one piece, after WELCOME: they must fit in it.
        if (options.ResumeBuffer > options.SendQueueLimit - 1024)
        {
            throw Error(options, "resume_buffer", "must be at least 1kb below", "send_queue_limit");
        }

        if (options.ResumeBuffer < 1024)
        {
            throw new ConfigException($"resume_buffer {options.ResumeBuffer} must be at least 1kb");
        }

        if (options.BufferPoolTrimInterval > TimeSpan.Zero && options.BufferPoolTrimInterval < options.TimerTick)
        {
            throw Error(options, "buffer_pool_trim_interval", "must be 0 or at least", "timer_tick");
        }

        if (options.PublishBurst > 0 && options.PublishRate == 0)
        {
            throw Error(options, "publish_burst", "needs a non-zero", "publish_rate");
        }

        if (options.AdminPort == options.Port)
        {
            throw Error(options, "admin_port", "must differ from", "port");
        }

        if (options.OnlineVisibility == OnlineVisibility.Claim && options.Auth != AuthMode.Jwt)
        {
            throw new ConfigException($"{options.SourceOf("online_visibility")}: online_visibility claim needs auth jwt (the see claim is in the token)");
        }

        if (options.Auth == AuthMode.Jwt)
        {
            ValidateKeyFiles(options);
        }

        if (options.UsesTls)
        {
            string needer = options.Tls != TlsMode.Off ? "tls " + ConfigKeys.Find("tls")!.Format(options) : "admin_tls " + ConfigKeys.Find("admin_tls")!.Format(options);
            string where = options.SourceOf(options.Tls != TlsMode.Off ? "tls" : "admin_tls");
            if (options.TlsCertFile.Length == 0 || options.TlsKeyFile.Length == 0)
            {
                throw new ConfigException($"{where}: {needer} needs tls_cert_file and tls_key_file");
            }
            ValidateKeyFile(options, "tls_cert_file", options.TlsCertFile);
            ValidateKeyFile(options, "tls_key_file", options.TlsKeyFile);
        }
    }

    /// <summary>auth jwt needs a key: the HS256 secret, the public keys, or both. The files must exist and hold
    /// something; their contents are parsed by the verifier, which names the file on any error.</summary>
    private static void ValidateKeyFiles(ServerOptions options)
    {
        if (options.JwtSecretFile.Length == 0 && options.JwtPublicKeyFile.Length == 0)
        {
            throw new ConfigException($"{options.SourceOf("auth")}: auth jwt needs jwt_secret_file (HS256) or jwt_public_key_file (RS256, ES256)");
        }
        if (options.JwtSecretFile.Length > 0) ValidateKeyFile(options, "jwt_secret_file", options.JwtSecretFile);
        if (options.JwtPublicKeyFile.Length > 0) ValidateKeyFile(options, "jwt_public_key_file", options.JwtPublicKeyFile);
    }

    private static void ValidateKeyFile(ServerOptions options, string key, string path)
    {
        string fileWhere = $"{options.SourceOf(key)}: {key} '{path}'";
        FileInfo file = new(path);
        if (!file.Exists)
        {
            throw new ConfigException($"{fileWhere} does not exist");
        }

        if (file.Length == 0 || File.ReadAllText(file.FullName).Trim().Length == 0)
        {
            throw new ConfigException($"{fileWhere} is empty");
        }
    }

    private static ConfigException Error(ServerOptions options, string key, string relation, string otherKey)
    {
        ConfigKey first = ConfigKeys.Find(key)!;
        ConfigKey second = ConfigKeys.Find(otherKey)!;
        return new ConfigException(
            $"{options.SourceOf(key)}: {key} {first.Format(options)} {relation} {otherKey} {second.Format(options)} (set by {options.SourceOf(otherKey)})");
    }
}
