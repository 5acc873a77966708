using PresenceD.Operations.Tests.Support;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Tools;

/// <summary>tools/prometheus-alerts.yml is valid for Prometheus, and each alert fires on the series its test file gives it, and only then.</summary>
public sealed class AlertRulesTests
{
    private static readonly string ToolsDirectory = Path.Combine(AppContext.BaseDirectory, "tools");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [RequiresProgramFact("promtool")]
    public async Task Promtool_check_rules_accepts_the_alerts()
    {
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(ChildProcess.Find("promtool")!, ["check", "rules", Path.Combine(ToolsDirectory, "prometheus-alerts.yml")], Wait);

        Assert.True(exit == 0, $"promtool check rules exited {exit}: {stdout}{stderr}");
        Assert.Contains("SUCCESS", stdout);
    }

    [RequiresProgramFact("promtool")]
    public async Task Promtool_test_rules_passes_the_alert_unit_tests()
    {
        (int exit, string stdout, string stderr) = await ChildProcess.RunAsync(ChildProcess.Find("promtool")!, ["test", "rules", Path.Combine(ToolsDirectory, "prometheus-alerts.test.yml")], Wait);

        Assert.True(exit == 0, $"promtool test rules exited {exit}: {stdout}{stderr}");
    }

    [Fact]
    public void The_alerts_an_operator_expects_are_there_and_each_has_a_test()
    {
        string rules = File.ReadAllText(Path.Combine(ToolsDirectory, "prometheus-alerts.yml"));
        string tests = File.ReadAllText(Path.Combine(ToolsDirectory, "prometheus-alerts.test.yml"));
        string[] alerts = MonitoringFiles.AlertNames(rules);

        foreach (string expected in new[] { "PresencedDown", "PresencedBackplaneDown", "PresencedSlowConsumerStorm", "PresencedFileDescriptorsNearLimit", "PresencedWatchdogStalled" })
        {
            Assert.Contains(expected, alerts);
        }
        Assert.All(alerts, alert => Assert.Contains($"alertname: {alert}\n", tests));
    }
}
