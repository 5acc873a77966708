using System.Diagnostics;
using PresenceD.Server.Configuration;

namespace PresenceD.Server.Tests.Configuration;

/// <summary>docs/configuration.md is the output of <c>presenced --help --markdown</c>, written from the key table.</summary>
public sealed class ConfigReferenceTests
{
    [Fact]
    public void Docs_configuration_md_is_what_the_key_table_generates()
    {
        string path = Path.Combine(RepositoryRoot(), "docs", "configuration.md");
        string expected = ConfigReference.Markdown();
        string actual = File.Exists(path) ? File.ReadAllText(path) : "";
        if (actual == expected) return;
        string[] want = expected.Split('\n');
        string[] have = actual.Split('\n');
        int line = 0;
        while (line < want.Length && line < have.Length && want[line] == have[line]) line++;
        Assert.Fail($"docs/configuration.md differs from the key table (src/PresenceD.Server/Configuration/ConfigKeys.cs) from line {line + 1}:\n"
            + $"  generated: {(line < want.Length ? want[line] : "(end of text)")}\n"
            + $"  the file:  {(line < have.Length ? have[line] : "(end of file)")}\n"
            + $"Regenerate it from the repository root with:\n  {ConfigReference.RegenerateCommand}");
    }

    [Fact]
    public void Every_key_has_a_row_with_its_default_and_environment_variable()
    {
        string markdown = ConfigReference.Markdown();
        Assert.All(ConfigKeys.All, key =>
            Assert.Contains($"| `{key.Name}` | `{ConfigFileReader.Quote(key.DefaultText)}` | {(key.Reloadable ? "yes" : "no")} | `{key.EnvironmentName}` |", markdown, StringComparison.Ordinal));
        Assert.All(ConfigValidator.Rules, rule => Assert.Contains("- " + rule + "\n", markdown, StringComparison.Ordinal));
    }

    [Fact]
    public void Markdown_goes_with_help_in_either_order()
    {
        Assert.Equal(ConfigCommand.HelpMarkdown, ConfigLoader.Load(["--help", "--markdown"], new System.Collections.Hashtable()).Command);
        Assert.Equal(ConfigCommand.HelpMarkdown, ConfigLoader.Load(["--markdown", "--check-config", "-h"], new System.Collections.Hashtable()).Command);
        Assert.Equal(ConfigCommand.Help, ConfigLoader.Load(["--help"], new System.Collections.Hashtable()).Command);
        ConfigException alone = Assert.Throws<ConfigException>(() => ConfigLoader.Load(["--markdown"], new System.Collections.Hashtable()));
        Assert.Contains("only with --help", alone.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_daemon_prints_exactly_the_generated_text()
    {
        string daemon = Path.Combine(AppContext.BaseDirectory, "presenced.dll");
        var start = new ProcessStartInfo("dotnet", [daemon, "--help", "--markdown"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task<string> output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        Task<string> error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}: {await error}");
        Assert.Equal(ConfigReference.Markdown(), await output);
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PresenceD.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("PresenceD.sln not found above " + AppContext.BaseDirectory);
    }
}
