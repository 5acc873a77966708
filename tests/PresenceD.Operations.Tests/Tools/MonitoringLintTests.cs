using System.Text.Json;
using PresenceD.Operations.Tests.Support;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Tools;

/// <summary>
/// The Grafana dashboard is valid JSON with the panels operators look for, and every series a panel, a dashboard
/// variable or an alert reads is one a real daemon serves on /metrics: a renamed metric fails here, not on a wall screen.
/// </summary>
public sealed class MonitoringLintTests
{
    private static readonly string ToolsDirectory = Path.Combine(AppContext.BaseDirectory, "tools");

    // Prometheus records up for every scraped target; the daemon does not export it.
    private static readonly string[] PrometheusSeries = ["up"];

    [Fact]
    public void The_dashboard_is_valid_json_with_the_panels_an_operator_looks_for()
    {
        using JsonDocument dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(ToolsDirectory, "grafana-dashboard.json")));
        JsonElement root = dashboard.RootElement;
        string[] titles = [.. root.GetProperty("panels").EnumerateArray().Select(p => p.GetProperty("title").GetString()!)];

        foreach (string expected in new[] { "Connections", "Rooms", "Deliveries", "Slow-consumer closes", "Backplane circuit state", "Backplane latency", "GC", "CPU" })
        {
            Assert.Contains(titles, t => t.Contains(expected, StringComparison.Ordinal));
        }
        Assert.Equal("presenced", root.GetProperty("uid").GetString());
        // Each panel is placed, and none overlaps another (Grafana would rearrange them).
        var cells = new HashSet<(int, int)>();
        foreach (JsonElement panel in root.GetProperty("panels").EnumerateArray())
        {
            JsonElement grid = panel.GetProperty("gridPos");
            int x = grid.GetProperty("x").GetInt32(), y = grid.GetProperty("y").GetInt32(), w = grid.GetProperty("w").GetInt32(), h = grid.GetProperty("h").GetInt32();
            Assert.True(x >= 0 && w > 0 && x + w <= 24, $"{panel.GetProperty("title")}: outside the 24-column grid");
            for (int i = x; i < x + w; i++)
            {
                for (int j = y; j < y + h; j++) Assert.True(cells.Add((i, j)), $"{panel.GetProperty("title")} overlaps another panel at ({i},{j})");
            }
        }
    }

    [Fact]
    public async Task Every_series_the_dashboard_and_the_alerts_read_is_on_a_real_daemons_metrics()
    {
        int adminPort = Ports.Free();
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(DaemonSetup.WithConfig(Ports.Free(), $"admin_port {adminPort}"));
        using var http = new HttpClient();
        string scrape = await http.GetStringAsync($"http://127.0.0.1:{adminPort}/metrics");
        Dictionary<string, string> families = PrometheusText.Types(scrape);

        using JsonDocument dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(ToolsDirectory, "grafana-dashboard.json")));
        List<(string Where, string Expression)> expressions = MonitoringFiles.DashboardExpressions(dashboard.RootElement);
        expressions.AddRange(MonitoringFiles.AlertExpressions(await File.ReadAllTextAsync(Path.Combine(ToolsDirectory, "prometheus-alerts.yml"))).Select(e => ("alert", e)));
        Assert.True(expressions.Count > 20, $"only {expressions.Count} expressions found: the readers missed some");

        var unknown = new List<string>();
        foreach ((string where, string expression) in expressions)
        {
            string[] names = MonitoringFiles.MetricNames(expression);
            if (names.Length == 0) unknown.Add($"{where}: reads no presenced series: {expression}");
            foreach (string name in names.Where(n => !Exported(n, families) && !PrometheusSeries.Contains(n)))
            {
                unknown.Add($"{where}: {name} is not on /metrics ({expression})");
            }
        }
        Assert.True(unknown.Count == 0, string.Join("\n", unknown));
    }

    /// <summary>A family the scrape types, or a histogram's _bucket/_sum/_count series.</summary>
    private static bool Exported(string name, Dictionary<string, string> families)
    {
        if (families.ContainsKey(name)) return true;
        foreach (string suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && families.TryGetValue(name[..^suffix.Length], out string? type) && type == "histogram") return true;
        }
        return false;
    }
}
