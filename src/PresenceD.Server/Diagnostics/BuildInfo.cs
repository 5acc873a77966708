using System.Diagnostics.Metrics;
using System.Reflection;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The daemon's version and the git commit it was built from, as MSBuild stamped them into
/// AssemblyInformationalVersion ("1.2.3+&lt;commit&gt;", the SDK appends SourceRevisionId from git);
/// a build outside a git checkout has no commit and says "unknown". Exported as presenced_build_info
/// (always 1, the labels carry the data) so a dashboard can show which build each node runs.
/// </summary>
internal static class BuildInfo
{
    public const string UnknownCommit = "unknown";

    private static readonly (string Version, string Commit) Stamp = Parse(
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    public static string Version => Stamp.Version;

    public static string Commit => Stamp.Commit;

    /// <summary>What `presenced --version` prints.</summary>
    public static string VersionLine => $"presenced {Version} (commit {Commit})";

    public static void Register(Meter meter) =>
        meter.CreateObservableGauge("presenced_build_info", () => new Measurement<long>(1,
            new KeyValuePair<string, object?>("version", Version), new KeyValuePair<string, object?>("commit", Commit)),
            description: "Always 1; the labels name the running build's version and git commit");

    internal static (string Version, string Commit) Parse(string? informational)
    {
        if (string.IsNullOrWhiteSpace(informational)) return ("0.0.0", UnknownCommit);
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        if (plus < 0) return (informational, UnknownCommit);
        string commit = informational[(plus + 1)..];
        return (informational[..plus], commit.Length == 0 ? UnknownCommit : commit);
    }
}
