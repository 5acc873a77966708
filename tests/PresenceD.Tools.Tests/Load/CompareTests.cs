using PresenceD.Load;
using PresenceD.Load.Reporting;

namespace PresenceD.Tools.Tests.Load;

public sealed class CompareTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("presence-load-compare").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, LoadResult result)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, ResultWriter.ToJson(result));
        return path;
    }

    private static LoadResult Result(long delivered, long p99Nanoseconds) => new()
    {
        Scenario = "fanout",
        Server = "127.0.0.1:7400",
        Seconds = 10,
        SendSeconds = 10,
        Sent = delivered / 10,
        Delivered = delivered,
        Latency = new LatencySummary(delivered, 1_000, 2_000, 3_000, p99Nanoseconds, p99Nanoseconds, p99Nanoseconds, p99Nanoseconds),
    };

    private static string Row(string output, string field) =>
        output.Split('\n').Single(line => line.StartsWith(field + " ", StringComparison.Ordinal));

    [Fact]
    public async Task Two_results_side_by_side_with_ratios()
    {
        string a = Write("a.json", Result(1_000_000, 400_000));
        string b = Write("b.json", Result(2_500_000, 100_000));
        var output = new StringWriter();

        int code = await LoadApp.RunAsync(["--compare", a, b], output, new StringWriter(), interactive: false);

        Assert.Equal(0, code);
        string text = output.ToString();
        Assert.Contains("a = " + a, text);
        Assert.Equal(["deliveries_per_s", "100000", "250000", "2.500"], Row(text, "deliveries_per_s").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["latency_us.p99", "400", "100", "0.250"], Row(text, "latency_us.p99").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["scenario", "fanout", "fanout", "-"], Row(text, "scenario").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("intervals", text);
    }

    [Fact]
    public async Task A_missing_or_foreign_file_is_a_clear_error()
    {
        string a = Write("a.json", Result(1, 1));
        string notJson = Path.Combine(_directory, "bad.json");
        File.WriteAllText(notJson, "deliveries: 5");
        string foreign = Path.Combine(_directory, "foreign.json");
        File.WriteAllText(foreign, "{\"rps\": 5}");

        foreach ((string other, string message) in new[] { (Path.Combine(_directory, "missing.json"), "missing.json"), (notJson, "is not JSON"), (foreign, "not a presence-load --json result") })
        {
            var error = new StringWriter();
            int code = await LoadApp.RunAsync(["--compare", a, other], new StringWriter(), error, interactive: false);
            Assert.Equal(1, code);
            Assert.Contains(message, error.ToString());
        }
    }
}
