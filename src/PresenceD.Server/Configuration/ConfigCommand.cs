namespace PresenceD.Server.Configuration;

/// <summary>What the command line asked the process to do.</summary>
internal enum ConfigCommand
{
    Run,
    CheckConfig,
    Help,
    /// <summary>--help --markdown: docs/configuration.md on stdout.</summary>
    HelpMarkdown,
    /// <summary>--version: the version and git commit of this build.</summary>
    Version,
}
