using System.Globalization;
using System.Text.RegularExpressions;

namespace PresenceD.Operations.Tests.Support;

/// <summary>
/// Reads a Prometheus text (0.0.4) scrape back: checks every line's syntax and that each sample follows
/// the TYPE line of its family, and returns "name{labels}" -> value.
/// </summary>
internal static partial class PrometheusText
{
    public static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        var typed = new Dictionary<string, string>(StringComparer.Ordinal);
        Assert.EndsWith("\n", text);
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ');
                Assert.True(parts.Length == 4 && parts[3] is "counter" or "gauge" or "histogram" or "summary" or "untyped", $"bad TYPE line: {line}");
                Assert.True(typed.TryAdd(parts[2], parts[3]), $"family typed twice: {line}");
                continue;
            }
            Match match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            string name = match.Groups["name"].Value;
            string family = typed.ContainsKey(name) ? name : Regex.Replace(name, "_(bucket|sum|count)$", "");
            Assert.True(typed.ContainsKey(family), $"sample before its TYPE line: {line}");
            string value = match.Groups["value"].Value;
            samples[name + match.Groups["labels"].Value] = value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => double.Parse(value, CultureInfo.InvariantCulture),
            };
        }
        return samples;
    }

    /// <summary>Family name -> its TYPE (counter, gauge, histogram, ...), from the "# TYPE" lines of a scrape.</summary>
    public static Dictionary<string, string> Types(string text) =>
        text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' '))
            .ToDictionary(parts => parts[2], parts => parts[3], StringComparer.Ordinal);

    public static double Value(Dictionary<string, double> samples, string key) =>
        samples.TryGetValue(key, out double value) ? value : throw new Xunit.Sdk.XunitException($"no sample {key}; have: {string.Join(", ", samples.Keys)}");

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")*\})? (?<value>\S+)$""")]
    private static partial Regex SampleLine();
}
