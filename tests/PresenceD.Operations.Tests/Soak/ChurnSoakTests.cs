using System.Globalization;
using Xunit.Abstractions;

namespace PresenceD.Operations.Tests.Soak;

/// <summary>
/// Issue 17, hole 5 against the real binary: RSS stays flat under churn and comes back once the clients are
/// gone, every observer's view is exact and every room ends empty. 30 s in CI; `tools/soak.sh --minutes N`
/// sets PD_SOAK_MINUTES (and PD_SOAK_OUT, where the CSV, the SVG chart, the summary and the progress go).
/// </summary>
public sealed class ChurnSoakTests(ITestOutputHelper output)
{
    private const int Churners = 500;
    private const int Rooms = 50;

    [Fact]
    public async Task Rss_stays_flat_under_churn_views_stay_exact_and_every_room_ends_empty()
    {
        string? minutes = Environment.GetEnvironmentVariable("PD_SOAK_MINUTES");
        bool longRun = minutes is not null;
        TimeSpan duration = longRun ? TimeSpan.FromMinutes(double.Parse(minutes!, CultureInfo.InvariantCulture)) : TimeSpan.FromSeconds(30);
        // The long run is held to the bound (within 5% of the 1-minute sample). The CI run compares its
        // third with its end, when the heap is still settling after the warm-up, so it gets a wider band; the
        // creep it guards against was +9% in 60 s and a closed connection that is never reclaimed grows without end.
        TimeSpan referenceAt = longRun && duration >= TimeSpan.FromMinutes(3) ? TimeSpan.FromMinutes(1) : duration / 3;
        double tolerance = longRun ? 5 : 10;
        string directory = Environment.GetEnvironmentVariable("PD_SOAK_OUT") is { Length: > 0 } dir
            ? dir
            : Directory.CreateTempSubdirectory("presenced-soak-").FullName;
        Directory.CreateDirectory(directory);
        using var progress = new StreamWriter(Path.Combine(directory, "progress.log")) { AutoFlush = true };

        ChurnSoak.Outcome outcome = await new ChurnSoak(new ChurnSoak.Shape(Churners, Rooms, duration, referenceAt), progress).RunAsync();

        RssSeries series = outcome.Series;
        string summary = series.WriteFiles(directory,
            $"churn soak: {Churners} clients, {Rooms} rooms, {duration.TotalSeconds:0} s; {outcome.Cycles} cycles, {outcome.Publishes} publishes, "
            + $"{outcome.Failures.Count} failures; reference at {referenceAt.TotalSeconds:0} s, tolerance {tolerance}%");
        progress.WriteLine(summary);
        output.WriteLine(summary);
        output.WriteLine("files in " + directory);
        Assert.True(outcome.Failures.Count == 0, "churners failed: " + string.Join("\n", outcome.Failures.Take(10)));
        Assert.True(outcome.ViewErrors.Count == 0, "views or rooms wrong at the end: " + string.Join("\n", outcome.ViewErrors.Take(20)));
        Assert.True(outcome.Cycles >= Churners, $"only {outcome.Cycles} cycles: the churn did not run");
        Assert.True(Math.Abs(series.DriftPercent) <= tolerance, $"RSS moved {series.DriftPercent:0.0}% between the reference and the end of the churn:\n" + summary);
        Assert.True(series.BackNearBaseline, "RSS did not come back near its baseline once everyone left:\n" + summary);
    }
}
