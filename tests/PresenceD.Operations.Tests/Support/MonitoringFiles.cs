using System.Text.Json;
using System.Text.RegularExpressions;

namespace PresenceD.Operations.Tests.Support;

/// <summary>Reads the PromQL out of tools/prometheus-alerts.yml and tools/grafana-dashboard.json, and the metric names out of PromQL.</summary>
internal static partial class MonitoringFiles
{
    public static string[] AlertNames(string rules) => [.. AlertLine().Matches(rules).Select(m => m.Groups[1].Value)];

    public static string[] AlertExpressions(string rules) => [.. ExprLine().Matches(rules).Select(m => m.Groups[1].Value)];

    /// <summary>(panel title, expression) for every panel target, and ("variable name", query) for every templating query.</summary>
    public static List<(string Where, string Expression)> DashboardExpressions(JsonElement dashboard)
    {
        var found = new List<(string, string)>();
        foreach (JsonElement panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            if (!panel.TryGetProperty("targets", out JsonElement targets)) continue;
            string title = panel.GetProperty("title").GetString()!;
            foreach (JsonElement target in targets.EnumerateArray()) found.Add((title, target.GetProperty("expr").GetString()!));
        }
        foreach (JsonElement variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() != "query") continue;
            found.Add(("variable " + variable.GetProperty("name").GetString(), variable.GetProperty("query").GetProperty("query").GetString()!));
        }
        return found;
    }

    /// <summary>The series names an expression reads: the daemon's families (presenced_, process_, dotnet_) and Prometheus' own up.</summary>
    public static string[] MetricNames(string expression) => [.. MetricName().Matches(expression).Select(m => m.Value).Distinct()];

    [GeneratedRegex(@"^\s*- alert: (\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex AlertLine();

    [GeneratedRegex(@"^\s*expr: (.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex ExprLine();

    [GeneratedRegex(@"\b((presenced|process|dotnet)_[a-zA-Z0-9_]+|up(?=\{))")]
    private static partial Regex MetricName();
}
