using System.Text;

namespace PresenceD.Server.Configuration;

/// <summary>
/// docs/configuration.md, written from the key table (<see cref="ConfigKeys"/>) and the cross-key rules
/// (<see cref="ConfigValidator.Rules"/>) by <c>presenced --help --markdown</c>, so the reference cannot drift from
/// the code: a test compares the file with <see cref="Markdown"/>.
/// </summary>
internal static class ConfigReference
{
    public const string RegenerateCommand = "dotnet run --project src/PresenceD.Server -- --help --markdown > docs/configuration.md";

    public static string Markdown()
    {
        var text = new StringBuilder();
        text.Append("# Configuration\n\n");
        text.Append("<!-- Generated from src/PresenceD.Server/Configuration/ConfigKeys.cs by `presenced --help --markdown`: do not edit.\n");
        text.Append("     Regenerate with: ").Append(RegenerateCommand).Append(" -->\n\n");
        text.Append("`presenced [config-file] [--key value | --key=value]... [--check-config] [--help [--markdown]]`\n\n");
        text.Append("## Sources\n\n");
        text.Append("Each source overrides the one before it:\n\n");
        text.Append("1. the defaults below;\n");
        text.Append("2. the config file, if one is given as the first argument (`presenced.conf` in the repository holds every key at its default);\n");
        text.Append("3. the environment: `PRESENCED_<KEY>`, the key in capitals (`PRESENCED_PORT=7401`);\n");
        text.Append("4. the command line: `--key value` or `--key=value`, where a dash works as an underscore (`--log-level warning`).\n\n");
        text.Append("An unknown key or a key given twice (in the file or on the command line), or a bad value from any source, stops the\n");
        text.Append("start with exit code 1 and a message naming the source (`presenced: presenced.conf:4: port: ...`,\n");
        text.Append("`environment PRESENCED_PORT: ...`, `command line --port: ...`). An environment variable `PRESENCED_*` that names no\n");
        text.Append("key is logged as a warning and ignored (the prefix is shared with scripts).\n\n");
        text.Append("`--check-config` validates everything, prints the effective value of every key with its source, and exits 0;\n");
        text.Append("`--help` prints the keys; `--help --markdown` prints this page.\n\n");
        text.Append("## File syntax\n\n");
        text.Append("- One `key value` per line, as in redis.conf. Blank lines are ignored; `#` starts a comment, on its own line or after\n");
        text.Append("  whitespace.\n");
        text.Append("- A value may be put in double quotes (there are no escapes); quotes are needed for an empty value (`\"\"`), for a `#`\n");
        text.Append("  after whitespace, and to keep spaces at either end.\n");
        text.Append("- Durations: a number with `ms`, `s`, `m` or `h` (`500ms`, `5s`, `2m`, `1h`); a bare number is seconds.\n");
        text.Append("- Sizes: a number with `b`, `kb`, `mb` or `gb`, powers of 1024 (`512b`, `64kb`, `1mb`); a bare number is bytes.\n");
        text.Append("- Units and choices are case-insensitive.\n\n");
        text.Append("## Keys\n\n");
        text.Append("Reload `yes`: a reload (SIGHUP, `systemctl reload presenced`) applies a new value to the running daemon; `no`: the\n");
        text.Append("key keeps its running value until a restart (the reload's log line names it).\n\n");
        text.Append("| key | default | reload | environment | meaning |\n");
        text.Append("|---|---|---|---|---|\n");
        foreach (ConfigKey key in ConfigKeys.All)
        {
            text.Append("| `").Append(key.Name).Append("` | `").Append(ConfigFileReader.Quote(key.DefaultText)).Append("` | ")
                .Append(key.Reloadable ? "yes" : "no").Append(" | `").Append(key.EnvironmentName).Append("` | ")
                .Append(Cell(key.Description)).Append(" |\n");
        }

        text.Append("\n## Rules between keys\n\n");
        text.Append("Checked at start and at every reload; a reload that breaks one is refused whole.\n\n");
        foreach (string rule in ConfigValidator.Rules)
        {
            text.Append("- ").Append(rule).Append('\n');
        }

        text.Append("\n## Reload\n\n");
        text.Append("A reload re-reads the config file, the environment and the command line the daemon was started with. A file that does\n");
        text.Append("not parse, or a value that breaks a rule, refuses the whole reload and the settings stay as they were\n");
        text.Append("(`reload refused, settings unchanged: ...`). Otherwise the changed reloadable keys apply and one line is logged:\n");
        text.Append("`reloaded: changed [max_connections, log_level]; kept (restart needed) [name_max]`. No client is dropped: new limits\n");
        text.Append("apply at each connection's next check (a lower `max_connections` refuses new clients but closes nobody), except\n");
        text.Append("`send_queue_limit`, which applies to open connections at once, and `history_rooms`, `history_size` and `history_ttl`,\n");
        text.Append("which reconfigure the histories at once (rooms no longer matched lose theirs).\n");
        return text.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
