using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// One exported metric (one instrument) and its samples keyed by rendered label set. Synchronous
/// instruments aggregate here as they record; observable ones are refilled on every scrape.
/// </summary>
internal sealed class MetricFamily
{
    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Sample> _samples = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly Kind _kind;
    private readonly double[] _bounds;

    private MetricFamily(string name, string help, Kind kind, bool observable, double[] bounds)
    {
        Name = name;
        Help = help;
        _kind = kind;
        Observable = observable;
        _bounds = bounds;
    }

    private enum Kind
    {
        Sum,
        LastValue,
        Histogram,
    }

    public string Name { get; }

    public string Help { get; }

    public bool Observable { get; }

    private string TypeName => _kind switch
    {
        Kind.Histogram => "histogram",
        _ when IsCounter => "counter",
        _ => "gauge",
    };

    private bool IsCounter { get; init; }

    /// <summary>The family for an instrument, or null for an instrument type this exporter does not know.</summary>
    public static MetricFamily? For(Instrument instrument)
    {
        Type type = instrument.GetType();
        if (!type.IsGenericType) return null;
        Type definition = type.GetGenericTypeDefinition();
        string name = SanitizeName(instrument.Name);
        string help = instrument.Description ?? "";
        if (definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>))
        {
            if (!name.EndsWith("_total", StringComparison.Ordinal)) name += "_total";
            return new MetricFamily(name, help, instrument.IsObservable ? Kind.LastValue : Kind.Sum, instrument.IsObservable, []) { IsCounter = true };
        }
        if (definition == typeof(UpDownCounter<>)) return new MetricFamily(name, help, Kind.Sum, false, []);
        if (definition == typeof(Gauge<>)) return new MetricFamily(name, help, Kind.LastValue, false, []);
        if (definition == typeof(ObservableGauge<>) || definition == typeof(ObservableUpDownCounter<>))
        {
            return new MetricFamily(name, help, Kind.LastValue, true, []);
        }
        if (definition == typeof(Histogram<>))
        {
            // Zeroed buckets before the first record, so dashboards and rate() see the series from the start.
            var histogram = new MetricFamily(name, help, Kind.Histogram, false, BucketsOf(instrument));
            histogram.AddSample("");
            return histogram;
        }
        return null;
    }

    /// <summary>Clears an observable family before its callbacks refill it, so vanished label sets vanish.</summary>
    public void BeginObservation()
    {
        lock (_lock)
        {
            _samples.Clear();
            _order.Clear();
        }
    }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string labels = tags.IsEmpty ? "" : RenderLabels(tags);
        lock (_lock)
        {
            Sample sample = _samples.TryGetValue(labels, out Sample? known) ? known : AddSample(labels);
            switch (_kind)
            {
                case Kind.Sum:
                    sample.Value += value;
                    break;
                case Kind.LastValue:
                    sample.Value = value;
                    break;
                case Kind.Histogram:
                    int bucket = 0;
                    while (bucket < _bounds.Length && value > _bounds[bucket]) bucket++;
                    sample.Buckets[bucket]++;
                    sample.Value += value;
                    sample.Count++;
                    break;
            }
        }
    }

    private Sample AddSample(string labels)
    {
        var sample = new Sample(_kind == Kind.Histogram ? _bounds.Length + 1 : 0);
        _samples.Add(labels, sample);
        _order.Add(labels);
        return sample;
    }

    public void WriteTo(StringBuilder text)
    {
        text.Append("# HELP ").Append(Name).Append(' ').Append(EscapeHelp(Help)).Append('\n');
        text.Append("# TYPE ").Append(Name).Append(' ').Append(TypeName).Append('\n');
        lock (_lock)
        {
            foreach (string labels in _order)
            {
                Sample sample = _samples[labels];
                if (_kind != Kind.Histogram)
                {
                    text.Append(Name).Append(labels).Append(' ').Append(FormatValue(sample.Value)).Append('\n');
                    continue;
                }
                long cumulative = 0;
                for (int i = 0; i <= _bounds.Length; i++)
                {
                    cumulative += sample.Buckets[i];
                    string le = i < _bounds.Length ? FormatValue(_bounds[i]) : "+Inf";
                    text.Append(Name).Append("_bucket").Append(WithLabel(labels, "le", le)).Append(' ')
                        .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
                text.Append(Name).Append("_sum").Append(labels).Append(' ').Append(FormatValue(sample.Value)).Append('\n');
                text.Append(Name).Append("_count").Append(labels).Append(' ').Append(sample.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
    }

    internal static string FormatValue(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    internal static string SanitizeName(string name)
    {
        var builder = new StringBuilder(name.Length);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool valid = char.IsAsciiLetter(c) || c is '_' or ':' || (i > 0 && char.IsAsciiDigit(c));
            builder.Append(valid ? c : '_');
        }
        return builder.ToString();
    }

    internal static string EscapeLabelValue(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private static string EscapeHelp(string help) => help.Replace("\\", "\\\\").Replace("\n", "\\n");

    private static string RenderLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var builder = new StringBuilder("{");
        for (int i = 0; i < tags.Length; i++)
        {
            if (i > 0) builder.Append(',');
            string value = Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "";
            builder.Append(SanitizeName(tags[i].Key)).Append("=\"").Append(EscapeLabelValue(value)).Append('"');
        }
        return builder.Append('}').ToString();
    }

    private static string WithLabel(string labels, string name, string value) =>
        labels.Length == 0 ? $"{{{name}=\"{value}\"}}" : $"{labels[..^1]},{name}=\"{value}\"}}";

    private static double[] BucketsOf(Instrument instrument)
    {
        IReadOnlyList<double>? advised = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            _ => null,
        };
        return advised is { Count: > 0 } ? [.. advised] : DefaultBuckets;
    }

    private sealed class Sample(int buckets)
    {
        public double Value { get; set; }

        public long Count { get; set; }

        public long[] Buckets { get; } = buckets == 0 ? [] : new long[buckets];
    }
}
