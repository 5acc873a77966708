using System.Collections;
using System.Security.Cryptography;
using System.Text;

namespace PresenceD.Server.Configuration;

/// <summary>
/// Builds <see cref="ServerOptions"/> from defaults &lt; config file &lt; environment
/// (<c>PRESENCED_&lt;KEY&gt;</c>) &lt; command line (<c>--key value</c> or <c>--key=value</c>).
/// Usage: <c>presenced [config-file] [--key value]... [--check-config] [--help [--markdown]] [--version]</c>.
/// Every error is a <see cref="ConfigException"/> naming the source (file and line, environment
/// variable or command-line option).
/// </summary>
internal static class ConfigLoader
{
    private const string EnvironmentPrefix = "PRESENCED_";

    public static ServerOptions Load(string[] args) => Load(args, Environment.GetEnvironmentVariables());

    public static ServerOptions Load(string[] args, IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var options = new ServerOptions();
        var commandLine = ParseCommandLine(args, options);
        if (options.Command is ConfigCommand.Help or ConfigCommand.HelpMarkdown or ConfigCommand.Version)
        {
            return options;
        }

        if (options.ConfigFile is not null)
        {
            ApplyFile(options, options.ConfigFile);
        }

        ApplyEnvironment(options, environment);
        foreach ((ConfigKey key, string value, string source) in commandLine)
        {
            Apply(options, key, value, source);
        }

        ConfigValidator.Validate(options);
        options.EffectiveNodeId = options.NodeId.Length > 0 ? options.NodeId : GenerateNodeId();
        return options;
    }

    /// <summary>Loads only a config file's text (for tests and reload of the file alone); defaults elsewhere.</summary>
    public static ServerOptions LoadText(string text, string sourceName)
    {
        var options = new ServerOptions();
        ApplyText(options, text, sourceName);
        ConfigValidator.Validate(options);
        options.EffectiveNodeId = options.NodeId.Length > 0 ? options.NodeId : GenerateNodeId();
        return options;
    }

    /// <summary>The effective configuration in presenced.conf syntax, each line ending with its source as a comment.</summary>
    public static string Describe(ServerOptions options)
    {
        var text = new StringBuilder();
        text.Append("# presenced effective configuration").Append('\n');
        int width = ConfigKeys.All.Max(k => k.Name.Length + 1 + ConfigFileReader.Quote(k.Format(options)).Length);
        foreach (ConfigKey key in ConfigKeys.All)
        {
            string line = $"{key.Name} {ConfigFileReader.Quote(key.Format(options))}";
            text.Append(line.PadRight(width)).Append("  # ").Append(options.SourceOf(key.Name)).Append('\n');
        }

        return text.ToString();
    }

    public static string HelpText()
    {
        var text = new StringBuilder();
        text.Append("usage: presenced [config-file] [--key value | --key=value]... [--check-config] [--help [--markdown]] [--version]\n\n");
        text.Append("Settings come from defaults < config file < environment PRESENCED_<KEY> < command line.\n");
        text.Append("Durations: 500ms, 5s, 2m, 1h (bare number = seconds). Sizes: 512b, 64kb, 1mb, 1gb (bare = bytes).\n");
        text.Append("--check-config validates, prints the effective configuration and exits.\n");
        text.Append("--help --markdown prints docs/configuration.md.\n");
        text.Append("--version prints the version and the git commit of this build.\n\nKeys (default; * = reloadable):\n");
        foreach (ConfigKey key in ConfigKeys.All)
        {
            text.Append("  ").Append(key.Name).Append(' ').Append(ConfigFileReader.Quote(key.DefaultText))
                .Append(key.Reloadable ? " *" : string.Empty).Append('\n')
                .Append("      ").Append(key.Description).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// Applies the reloadable keys that differ in <paramref name="reloaded"/> to a copy of
    /// <paramref name="current"/>; differing keys that cannot change while running are kept and
    /// listed in <paramref name="refused"/>. Throws <see cref="ConfigException"/> if the mix breaks a cross-key rule.
    /// </summary>
    public static ServerOptions ApplyReload(ServerOptions current, ServerOptions reloaded, out IReadOnlyList<string> changed, out IReadOnlyList<string> refused)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(reloaded);
        ServerOptions result = current.Clone();
        var changedKeys = new List<string>();
        var refusedKeys = new List<string>();
        foreach (ConfigKey key in ConfigKeys.All)
        {
            if (key.SameValue(current, reloaded))
            {
                continue;
            }

            if (key.Reloadable)
            {
                key.Copy(reloaded, result);
                result.SetSource(key.Name, reloaded.SourceOf(key.Name));
                changedKeys.Add(key.Name);
            }
            else
            {
                refusedKeys.Add(key.Name);
            }
        }

        ConfigValidator.Validate(result);
        changed = changedKeys;
        refused = refusedKeys;
        return result;
    }

    private static List<(ConfigKey Key, string Value, string Source)> ParseCommandLine(string[] args, ServerOptions options)
    {
        var settings = new List<(ConfigKey, string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        bool markdown = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "--help" or "-h")
            {
                options.Command = ConfigCommand.Help;
                continue;
            }

            if (arg == "--version")
            {
                // Help wins, as it does over --check-config: it is what a confused user asked for.
                if (options.Command != ConfigCommand.Help) options.Command = ConfigCommand.Version;
                continue;
            }

            if (arg == "--markdown")
            {
                markdown = true;
                continue;
            }

            if (arg == "--check-config")
            {
                options.Command = options.Command == ConfigCommand.Help ? ConfigCommand.Help : ConfigCommand.CheckConfig;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (i == 0)
                {
                    options.ConfigFile = arg;
                    continue;
                }

                throw new ConfigException($"command line: unexpected argument '{arg}' (the config file, if any, comes first)");
            }

            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string option = equals < 0 ? arg : arg[..equals];
            string source = $"command line {option}";
            string name = option[2..].Replace('-', '_');
            ConfigKey key = ConfigKeys.Find(name) ?? throw new ConfigException($"{source}: unknown key '{name}'");
            string value;
            if (equals >= 0)
            {
                value = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                throw new ConfigException($"{source}: missing value");
            }

            if (!seen.Add(key.Name))
            {
                throw new ConfigException($"{source}: '{key.Name}' is given more than once");
            }

            settings.Add((key, value, source));
        }

        if (markdown)
        {
            options.Command = options.Command == ConfigCommand.Help
                ? ConfigCommand.HelpMarkdown
                : throw new ConfigException("command line --markdown: only with --help (presenced --help --markdown)");
        }

        return settings;
    }

    private static void ApplyFile(ServerOptions options, string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read the config file: {ex.Message}", ex);
        }

        ApplyText(options, text, path);
    }

    private static void ApplyText(ServerOptions options, string text, string sourceName)
    {
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (ConfigFileReader.Entry entry in ConfigFileReader.Parse(text, sourceName))
        {
            string source = $"{sourceName}:{entry.Line}";
            ConfigKey key = ConfigKeys.Find(entry.Key) ?? throw new ConfigException($"{source}: unknown key '{entry.Key}'");
            if (firstLine.TryGetValue(key.Name, out int line))
            {
                throw new ConfigException($"{source}: duplicate key '{key.Name}' (first set on line {line})");
            }

            firstLine[key.Name] = entry.Line;
            Apply(options, key, entry.Value, source, $"{source}: {key.Name}");
        }
    }

    private static void ApplyEnvironment(ServerOptions options, IDictionary environment)
    {
        var variables = new List<(string Name, string Value)>();
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is string name && name.StartsWith(EnvironmentPrefix, StringComparison.Ordinal))
            {
                variables.Add((name, entry.Value as string ?? string.Empty));
            }
        }

        variables.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach ((string name, string value) in variables)
        {
            string source = $"environment {name}";
            string keyName = name[EnvironmentPrefix.Length..].ToLowerInvariant();
            // The PRESENCED_ prefix is shared with scripts and tools (PRESENCED_BIN in the peers benchmark), so an
            // unknown variable is reported at startup and ignored rather than fatal, unlike file and command line.
            ConfigKey? key = ConfigKeys.Find(keyName);
            if (key is null)
            {
                options.IgnoredEnvironment.Add(name);
                continue;
            }
            Apply(options, key, value, source);
        }
    }

    // A file line names no key by itself, so its errors add it; the other sources already name it.
    private static void Apply(ServerOptions options, ConfigKey key, string value, string source, string? where = null)
    {
        try
        {
            key.Apply(options, value);
        }
        catch (FormatException ex)
        {
            throw new ConfigException($"{where ?? source}: {ex.Message}", ex);
        }

        options.SetSource(key.Name, source);
    }

    private static string GenerateNodeId()
    {
        string host = new([.. Environment.MachineName.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c == '-').Take(40)]);
        string suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        return host.Length > 0 ? $"{host}-{suffix}" : suffix;
    }
}
