using System.Diagnostics;
using System.Globalization;
using PresenceD.Load.Measurement;
using Spectre.Console;

namespace PresenceD.Load.Reporting;

/// <summary>
/// Shows a run's progress on stderr while it runs: a live Spectre.Console table on a terminal, else one plain line
/// every two seconds (logs and CI). The latency shown is approximate (read while receivers write).
/// </summary>
internal static class LiveProgress
{
    public static async Task TrackAsync(LoadContext context, Task run, TextWriter error, bool interactive)
    {
        var clock = Stopwatch.StartNew();
        var latency = new LatencyHistogram(); // reused: a snapshot is 270 KB, too much to allocate twice a second
        if (!interactive)
        {
            while (await Task.WhenAny(run, Task.Delay(2000)) != run) await error.WriteLineAsync(Line(context, clock.Elapsed));
            return;
        }
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
        await console.Live(Render(context, clock.Elapsed, latency)).AutoClear(true).StartAsync(async live =>
        {
            while (await Task.WhenAny(run, Task.Delay(500)) != run)
            {
                live.UpdateTarget(Render(context, clock.Elapsed, latency));
                live.Refresh();
            }
        });
    }

    private static Table Render(LoadContext context, TimeSpan elapsed, LatencyHistogram latency)
    {
        LoadStats stats = context.Stats;
        stats.Latency.SnapshotInto(latency);
        double p99 = latency.Count == 0 ? double.NaN : latency.ValueAtPercentile(99) / 1000.0;
        var table = new Table().Border(TableBorder.Simple).HideHeaders();
        table.AddColumn("k");
        table.AddColumn("v");
        table.AddRow("scenario", Markup.Escape($"{context.Options.Scenario}: {context.Phase}"));
        table.AddRow("elapsed", elapsed.ToString(@"m\:ss", CultureInfo.InvariantCulture));
        table.AddRow("connections", stats.Opened.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("sent", stats.Sent.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("delivered", stats.Delivered.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("p99 (µs, approx.)", double.IsNaN(p99) ? "-" : p99.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("errors", stats.ErrorCount.ToString("N0", CultureInfo.InvariantCulture));
        return table;
    }

    private static string Line(LoadContext context, TimeSpan elapsed)
    {
        LoadStats stats = context.Stats;
        return string.Create(CultureInfo.InvariantCulture,
            $"[{elapsed.TotalSeconds,6:0.0}s] {context.Options.Scenario}: {context.Phase}; connections={stats.Opened} sent={stats.Sent} delivered={stats.Delivered} errors={stats.ErrorCount}");
    }
}
