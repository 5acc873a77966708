using System.Collections;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Configuration;

namespace PresenceD.Server.Tests.Configuration;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("presenced-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string, string> BadValues => new()
    {
        { "bind", "not a host!", "is not an IP address or host name" },
        { "port", "abc", "'abc' is not a port" },
        { "admin_port", "70000", "is not a port" },
        { "admin_bind", "not a host!", "is not an IP address or host name" },
        { "max_connections", "0", "out of range" },
        { "max_frame", "1tb", "unknown size unit" },
        { "heartbeat_interval", "5x", "unknown duration unit" },
        { "subscription_audit_interval", "0s", "at least" },
        { "heartbeat_timeout", "-1", "is not a duration" },
        { "frame_timeout", "-1s", "is not a duration" },
        { "hello_timeout", "0", "must be at least 1ms" },
        { "close_linger", "2m", "must be at most 1m" },
        { "send_queue_limit", "lots", "is not a size" },
        { "resume_window", "2h", "must be at most 1h" },
        { "resume_buffer", "big", "is not a size" },
        { "resume_handover_timeout", "2m", "must be at most 1m" },
        { "resume_max_sessions", "-1", "is not a whole number" },
        { "resume_max_sessions", "20000000", "out of range" },
        { "buffer_pool_max", "-1mb", "is not a size" },
        { "buffer_pool_trim_interval", "often", "is not a duration" },
        { "max_rooms_per_connection", "0", "out of range" },
        { "meta_max", "1.5kb", "is not a size" },
        { "name_max", "0", "out of range" },
        { "presence_limit", "-1", "is not a whole number" },
        { "online_max", "x", "is not a whole number" },
        { "publish_rate", "-5", "is not a whole number" },
        { "publish_burst", "many", "is not a whole number" },
        { "auth", "oauth", "is not one of none|jwt" },
        { "online_visibility", "friends", "is not one of all|shared_rooms|claim" },
        { "jwt_leeway", "soon", "is not a duration" },
        { "history_rooms", "a*b", "may only end in '*'" },
        { "history_size", "0", "out of range" },
        { "history_ttl", "0", "must be at least 1ms" },
        { "backplane", "kafka", "is not one of memory|redis" },
        { "redis", "", "must not be empty" },
        { "redis_timeout", "1d", "unknown duration unit" },
        { "sweep_interval", "0s", "must be at least 1ms" },
        { "node_id", "has space", "is not a node id" },
        { "drain_timeout", "x", "is not a duration" },
        { "proxy_protocol", "maybe", "is not on|off" },
        { "io_engine", "kqueue", "is not one of epoll|io_uring" },
        { "log_level", "verbose", "is not one of trace|debug|info|warning|error" },
        { "timer_tick", "0ms", "must be at least 1ms" },
        { "tls", "maybe", "is not one of off|on|optional" },
        { "tls_min_version", "1.1", "is not one of 1.2|1.3" },
        { "admin_tls", "sometimes", "is not on|off" },
    };

    [Fact]
    public void Every_key_except_a_free_form_path_has_a_bad_value_case()
    {
        var covered = BadValues.Select(row => (string)row[0]).ToHashSet();
        var expected = ConfigKeys.All.Select(k => k.Name).Where(n => n is not ("jwt_secret_file" or "jwt_public_key_file" or "tls_cert_file" or "tls_key_file")).ToHashSet();
        Assert.Equal(expected.Order(), covered.Order());
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_bad_value_in_the_file_names_the_file_line_and_key(string key, string value, string problem)
    {
        string path = WriteConfig($"# header\n\n{key} \"{value}\"\n");
        var ex = Assert.Throws<ConfigException>(() => Load([path]));
        Assert.StartsWith($"{path}:3: {key}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_bad_value_in_the_environment_names_the_variable(string key, string value, string problem)
    {
        string variable = "PRESENCED_" + key.ToUpperInvariant();
        var ex = Assert.Throws<ConfigException>(() => Load([], new Hashtable { [variable] = value }));
        Assert.StartsWith($"environment {variable}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_bad_value_on_the_command_line_names_the_option(string key, string value, string problem)
    {
        var ex = Assert.Throws<ConfigException>(() => Load([$"--{key}={value}"]));
        Assert.StartsWith($"command line --{key}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_value_messages_match_the_documented_examples()
    {
        Assert.Equal(
            "environment PRESENCED_PORT: 'abc' is not a port (1-65535)",
            Assert.Throws<ConfigException>(() => Load([], new Hashtable { ["PRESENCED_PORT"] = "abc" })).Message);
        string path = WriteConfig(string.Concat(Enumerable.Repeat("# filler\n", 11)) + "prot 7400\n");
        Assert.Equal($"{path}:12: unknown key 'prot'", Assert.Throws<ConfigException>(() => Load([path])).Message);
    }

    [Fact]
    public void The_repository_presenced_conf_holds_every_key_at_its_default()
    {
        string path = FindRepositoryFile("presenced.conf");
        ServerOptions loaded = Load([path]);
        var defaults = new ServerOptions();

        Assert.All(ConfigKeys.All, key => Assert.True(key.SameValue(defaults, loaded), $"{key.Name}: {key.Format(loaded)} != {key.DefaultText}"));
        Assert.All(ConfigKeys.All, key => Assert.StartsWith(path + ":", loaded.SourceOf(key.Name), StringComparison.Ordinal));
    }

    [Fact]
    public void No_arguments_give_the_defaults()
    {
        ServerOptions options = Load([]);
        Assert.Equal(ConfigCommand.Run, options.Command);
        Assert.Null(options.ConfigFile);
        Assert.Equal("127.0.0.1", options.Bind);
        Assert.Equal(7400, options.Port);
        Assert.Equal(65_536, options.MaxFrame);
        Assert.Equal(1_048_576, options.SendQueueLimit);
        Assert.Equal(TimeSpan.FromSeconds(15), options.HeartbeatTimeout);
        Assert.Equal(TimeSpan.Zero, options.FrameTimeout);
        Assert.Equal(TimeSpan.FromSeconds(15), options.EffectiveFrameTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.CloseLinger);
        Assert.Equal(TimeSpan.FromMinutes(10), options.HistoryTtl);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.TimerTick);
        Assert.Equal(LogLevel.Information, options.LogLevel);
        Assert.Equal(AuthMode.None, options.Auth);
        Assert.Equal(BackplaneKind.Memory, options.Backplane);
        Assert.Equal("", options.NodeId);
        Assert.NotEmpty(options.EffectiveNodeId);
        Assert.NotEqual(options.EffectiveNodeId, Load([]).EffectiveNodeId);
        Assert.Equal("default", options.SourceOf("port"));
    }

    [Fact]
    public void Precedence_is_defaults_then_file_then_environment_then_command_line()
    {
        string path = WriteConfig("port 7401\nmax_frame 32kb\nhello_timeout 3s\nlog_level debug\n");
        var env = new Hashtable { ["PRESENCED_MAX_FRAME"] = "16kb", ["PRESENCED_HELLO_TIMEOUT"] = "2s", ["OTHER_VAR"] = "ignored" };

        ServerOptions options = Load([path, "--hello_timeout", "1s"], env);

        Assert.Equal(path, options.ConfigFile);
        Assert.Equal(7401, options.Port);
        Assert.Equal($"{path}:1", options.SourceOf("port"));
        Assert.Equal(16 * 1024, options.MaxFrame);
        Assert.Equal("environment PRESENCED_MAX_FRAME", options.SourceOf("max_frame"));
        Assert.Equal(TimeSpan.FromSeconds(1), options.HelloTimeout);
        Assert.Equal("command line --hello_timeout", options.SourceOf("hello_timeout"));
        Assert.Equal(LogLevel.Debug, options.LogLevel);
        Assert.Equal(TimeSpan.FromSeconds(5), options.HeartbeatInterval);
        Assert.Equal("default", options.SourceOf("heartbeat_interval"));
    }

    [Fact]
    public void Command_line_forms()
    {
        ServerOptions options = Load(["--port=7402", "--max-frame", "1kb", "--node_id=", "--history_rooms=chat:*,lobby", "--proxy_protocol", "yes"]);
        Assert.Equal(7402, options.Port);
        Assert.Equal(1024, options.MaxFrame);
        Assert.Equal("", options.NodeId);
        Assert.Equal("chat:*,lobby", options.HistoryRooms);
        Assert.True(options.ProxyProtocol);
        Assert.Equal("command line --max-frame", options.SourceOf("max_frame"));
    }

    [Theory]
    [InlineData(new[] { "--prot", "1" }, "command line --prot: unknown key 'prot'")]
    [InlineData(new[] { "--port" }, "command line --port: missing value")]
    [InlineData(new[] { "--port", "--bind", "x" }, "command line --port: missing value")]
    [InlineData(new[] { "--port", "1", "--port=2" }, "command line --port: 'port' is given more than once")]
    [InlineData(new[] { "--port", "1", "stray" }, "command line: unexpected argument 'stray'")]
    public void Command_line_errors(string[] args, string expected)
        => Assert.StartsWith(expected, Assert.Throws<ConfigException>(() => Load(args)).Message, StringComparison.Ordinal);

    [Fact]
    public void Unknown_and_duplicate_keys_in_the_file_and_environment()
    {
        string duplicate = WriteConfig("port 1\n\nport 2\n");
        Assert.Equal($"{duplicate}:3: duplicate key 'port' (first set on line 1)", Assert.Throws<ConfigException>(() => Load([duplicate])).Message);
        ServerOptions withStray = Load([], new Hashtable { ["PRESENCED_BIN"] = "/usr/bin/presenced", ["PRESENCED_PORT"] = "7401" });
        Assert.Equal(["PRESENCED_BIN"], withStray.IgnoredEnvironment);
        Assert.Equal(7401, withStray.Port);
        string missing = Path.Combine(_dir, "missing.conf");
        Assert.StartsWith($"{missing}: cannot read", Assert.Throws<ConfigException>(() => Load([missing])).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--heartbeat_timeout=5s", "command line --heartbeat_timeout: heartbeat_timeout 5s must be greater than heartbeat_interval 5s (set by default)")]
    [InlineData("--resume_buffer=1mb", "command line --resume_buffer: resume_buffer 1mb must be at least 1kb below send_queue_limit 1mb (set by default)")]
    [InlineData("--send_queue_limit=1kb", "command line --send_queue_limit: send_queue_limit 1kb must be at least max_frame 64kb (set by default)")]
    [InlineData("--publish_burst=10", "command line --publish_burst: publish_burst 10 needs a non-zero publish_rate 0 (set by default)")]
    [InlineData("--admin_port=7400", "command line --admin_port: admin_port 7400 must differ from port 7400 (set by default)")]
    [InlineData("--timer_tick=10s", "command line --timer_tick: timer_tick 10s must not exceed heartbeat_interval 5s (set by default)")]
    [InlineData("--buffer_pool_trim_interval=50ms", "command line --buffer_pool_trim_interval: buffer_pool_trim_interval 50ms must be 0 or at least timer_tick 100ms (set by default)")]
    [InlineData("--frame_timeout=20s", "command line --frame_timeout: frame_timeout 20s must not exceed heartbeat_timeout 15s (set by default)")]
    [InlineData("--frame_timeout=50ms", "command line --frame_timeout: frame_timeout 50ms must be at least timer_tick 100ms (set by default)")]
    [InlineData("--auth=jwt", "command line --auth: auth jwt needs jwt_secret_file (HS256) or jwt_public_key_file (RS256, ES256)")]
    public void Cross_key_rules(string arg, string expected)
        => Assert.Equal(expected, Assert.Throws<ConfigException>(() => Load([arg])).Message);

    [Fact]
    public void Heartbeat_rule_names_both_sources()
    {
        string path = WriteConfig("heartbeat_interval 20s\n");
        string message = Assert.Throws<ConfigException>(() => Load([path])).Message;
        Assert.Equal($"default: heartbeat_timeout 15s must be greater than heartbeat_interval 20s (set by {path}:1)", message);
    }

    [Fact]
    public void Jwt_needs_an_existing_non_empty_secret_file()
    {
        string missing = Path.Combine(_dir, "nope.key");
        Assert.Contains("does not exist", Assert.Throws<ConfigException>(() => Load(["--auth", "jwt", "--jwt_secret_file", missing])).Message, StringComparison.Ordinal);

        string empty = Path.Combine(_dir, "empty.key");
        File.WriteAllText(empty, "  \n");
        string message = Assert.Throws<ConfigException>(() => Load(["--auth", "jwt", "--jwt_secret_file", empty])).Message;
        Assert.Equal($"command line --jwt_secret_file: jwt_secret_file '{empty}' is empty", message);

        string good = Path.Combine(_dir, "good.key");
        File.WriteAllText(good, "s3cret");
        ServerOptions options = Load(["--auth", "jwt", "--jwt_secret_file", good]);
        Assert.Equal(AuthMode.Jwt, options.Auth);
        Assert.Equal(good, options.JwtSecretFile);
    }

    [Fact]
    public void Jwt_with_public_keys_only_needs_an_existing_key_file()
    {
        string missing = Path.Combine(_dir, "nope.pem");
        Assert.Equal($"command line --jwt_public_key_file: jwt_public_key_file '{missing}' does not exist",
            Assert.Throws<ConfigException>(() => Load(["--auth", "jwt", "--jwt_public_key_file", missing])).Message);

        string pem = Path.Combine(_dir, "keys.pem");
        File.WriteAllText(pem, "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n");
        ServerOptions options = Load(["--auth", "jwt", "--jwt_public_key_file", pem]);
        Assert.Equal(pem, options.JwtPublicKeyFile);
        Assert.Equal("", options.JwtSecretFile);
    }

    [Fact]
    public void Check_config_and_help_commands()
    {
        Assert.Equal(ConfigCommand.CheckConfig, Load(["--check-config"]).Command);
        Assert.Equal(ConfigCommand.Help, Load(["--help", "--port", "not-checked"]).Command);
        string help = ConfigLoader.HelpText();
        Assert.All(ConfigKeys.All, key => Assert.Contains($"  {key.Name} ", help, StringComparison.Ordinal));
    }

    [Fact]
    public void Check_config_output_re_parses_to_the_same_options()
    {
        string secret = Path.Combine(_dir, "a secret.key");
        File.WriteAllText(secret, "k");
        string path = WriteConfig("history_rooms \"chat:*, lobby\"\nmeta_max 1500\nhistory_ttl 90s\nnode_id node-7\n");
        ServerOptions options = Load(
            [path, "--check-config", "--auth=jwt", "--jwt_secret_file", secret, "--timer_tick=250ms", "--log_level=WARNING"],
            new Hashtable { ["PRESENCED_SEND_QUEUE_LIMIT"] = "3mb", ["PRESENCED_REDIS"] = "r1:6379,password=x#y" });

        string described = ConfigLoader.Describe(options);
        Assert.Contains("# command line --timer_tick", described, StringComparison.Ordinal);
        Assert.Contains($"jwt_secret_file \"{secret}\"", described, StringComparison.Ordinal);

        ServerOptions reparsed = ConfigLoader.LoadText(described, "described.conf");
        Assert.All(ConfigKeys.All, key => Assert.True(key.SameValue(options, reparsed), $"{key.Name}: {key.Format(options)} vs {key.Format(reparsed)}"));
        Assert.Equal("chat:*,lobby", reparsed.HistoryRooms);
        Assert.Equal("r1:6379,password=x#y", reparsed.Redis);
        Assert.Equal(LogLevel.Warning, reparsed.LogLevel);
    }

    [Fact]
    public void Reload_applies_reloadable_keys_and_refuses_the_others()
    {
        ServerOptions current = Load([WriteConfig("port 7400\nmax_frame 64kb\nlog_level info\n")]);
        string newFile = WriteConfig("port 7500\nmax_frame 32kb\nlog_level debug\nhistory_rooms chat:*\nname_max 64\n");
        ServerOptions reloaded = Load([newFile]);

        ServerOptions applied = ConfigLoader.ApplyReload(current, reloaded, out IReadOnlyList<string> changed, out IReadOnlyList<string> refused);

        Assert.Equal(["max_frame", "history_rooms", "log_level"], changed);
        Assert.Equal(["port", "name_max"], refused);
        Assert.Equal(7400, applied.Port);
        Assert.Equal(128, applied.NameMax);
        Assert.Equal(32 * 1024, applied.MaxFrame);
        Assert.Equal(LogLevel.Debug, applied.LogLevel);
        Assert.Equal("chat:*", applied.HistoryRooms);
        Assert.Equal($"{newFile}:2", applied.SourceOf("max_frame"));
        Assert.Equal(64 * 1024, current.MaxFrame); // the running options are not touched
        Assert.Equal(current.EffectiveNodeId, applied.EffectiveNodeId);
    }

    [Fact]
    public void Reload_rejects_a_mix_that_breaks_a_cross_key_rule()
    {
        ServerOptions current = Load(["--timer_tick", "1s"]);
        ServerOptions reloaded = Load(["--heartbeat_interval", "500ms", "--hello_timeout", "1s"]);
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.ApplyReload(current, reloaded, out _, out _));
        Assert.Contains("timer_tick 1s must not exceed heartbeat_interval 500ms", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reloadable_keys_are_the_documented_set()
    {
        string[] expected =
        [
            "log_level", "max_connections", "max_frame", "send_queue_limit", "max_rooms_per_connection", "meta_max",
            "presence_limit", "online_max", "publish_rate", "publish_burst", "history_rooms", "history_size", "history_ttl",
            "heartbeat_interval", "heartbeat_timeout", "frame_timeout", "hello_timeout", "close_linger", "jwt_leeway", "drain_timeout",
            "sweep_interval", "subscription_audit_interval", "buffer_pool_max", "buffer_pool_trim_interval", "resume_window", "resume_handover_timeout", "resume_buffer",
            "resume_max_sessions",
        ];
        Assert.Equal(expected.Order(), ConfigKeys.All.Where(k => k.Reloadable).Select(k => k.Name).Order());
    }

    private static ServerOptions Load(string[] args, Hashtable? env = null) => ConfigLoader.Load(args, env ?? new Hashtable());

    private string WriteConfig(string text)
    {
        string path = Path.Combine(_dir, $"presenced-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, text);
        return path;
    }

    private static string FindRepositoryFile(string name)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, name);
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "PresenceD.sln")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(name);
    }
}
