using System.Globalization;
using System.Text;

namespace PresenceD.Operations.Tests.Soak;

/// <summary>
/// The soak's one-per-second samples of the daemon (VmRSS, open connections), the marks the checks compare
/// (baseline before the churn, the reference sample, the end of the churn, the last sample once everyone left),
/// and the three files a run leaves: the CSV, an SVG chart drawn from it, and a summary table.
/// </summary>
internal sealed class RssSeries
{
    private const double MiB = 1024 * 1024;

    private readonly List<Sample> _samples = [];
    private int _baseline = -1;
    private int _reference = -1;
    private int _churnEnd = -1;

    internal sealed record Sample(double Seconds, long RssBytes, long Connections, string Phase);

    public IReadOnlyList<Sample> Samples => _samples;

    public Sample Last => _samples[^1];

    public Sample Baseline => _samples[_baseline];

    /// <summary>The sample the end of the churn is held against (1 minute in, or a third of a shorter run).</summary>
    public Sample Reference => _samples[_reference];

    public Sample ChurnEnd => _samples[_churnEnd];

    /// <summary>The end of the churn against the reference, in percent.</summary>
    public double DriftPercent => 100.0 * (ChurnEnd.RssBytes - Reference.RssBytes) / Reference.RssBytes;

    /// <summary>How far the last sample (everyone gone) is above the baseline, in percent.</summary>
    public double AfterPercent => 100.0 * (Last.RssBytes - Baseline.RssBytes) / Baseline.RssBytes;

    /// <summary>"Near the baseline": within a quarter of it, or 16 MiB for a small one (the GC keeps a few segments).</summary>
    public bool BackNearBaseline => Last.RssBytes <= Baseline.RssBytes + Math.Max(Baseline.RssBytes / 4, 16 * (long)MiB);

    public void Add(double seconds, long rssBytes, long connections, string phase) => _samples.Add(new Sample(seconds, rssBytes, connections, phase));

    public void MarkBaseline() => _baseline = _samples.Count - 1;

    /// <summary>The churn is over: its last sample is the end, and the reference is the first churn sample at <paramref name="referenceAt"/> after the baseline.</summary>
    public void MarkChurnEnd(TimeSpan referenceAt)
    {
        _churnEnd = _samples.Count - 1;
        double at = Baseline.Seconds + referenceAt.TotalSeconds;
        _reference = _samples.FindIndex(_baseline, s => s.Seconds >= at);
        if (_reference < 0 || _reference > _churnEnd) _reference = _churnEnd;
    }

    /// <summary>Writes churn.csv, churn.svg and summary.md into <paramref name="directory"/>; returns the summary.</summary>
    public string WriteFiles(string directory, string header)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "churn.csv"), Csv());
        File.WriteAllText(Path.Combine(directory, "churn.svg"), Svg());
        string summary = header + "\n\n" + Summary();
        File.WriteAllText(Path.Combine(directory, "summary.md"), summary);
        return summary;
    }

    public string Csv()
    {
        var csv = new StringBuilder("seconds,rss_mib,connections,phase\n");
        foreach (Sample s in _samples) csv.Append(CultureInfo.InvariantCulture, $"{s.Seconds:0.0},{s.RssBytes / MiB:0.0},{s.Connections},{s.Phase}\n");
        return csv.ToString();
    }

    public string Summary()
    {
        var table = new StringBuilder("| sample | t (s) | VmRSS (MiB) | connections |\n|---|---:|---:|---:|\n");
        void Row(string name, Sample s) => table.Append(CultureInfo.InvariantCulture, $"| {name} | {s.Seconds:0} | {s.RssBytes / MiB:0.0} | {s.Connections} |\n");
        Row("baseline (before the churn)", Baseline);
        Row("reference", Reference);
        Row("peak during the churn", _samples.Skip(_baseline).Take(_churnEnd - _baseline + 1).MaxBy(s => s.RssBytes)!);
        Row("end of the churn", ChurnEnd);
        Row("everyone gone", Last);
        table.Append(CultureInfo.InvariantCulture, $"\nend of the churn against the reference: {DriftPercent:+0.0;-0.0}%; everyone gone against the baseline: {AfterPercent:+0.0;-0.0}%\n");
        return table.ToString();
    }

    /// <summary>RSS (left axis, MiB) and connections (right axis) over time, as two polylines; no plotting library.</summary>
    public string Svg()
    {
        const int width = 800, height = 320, left = 60, right = 60, top = 30, bottom = 40;
        double maxT = Math.Max(1, _samples[^1].Seconds);
        double maxRss = Math.Max(1, _samples.Max(s => s.RssBytes) / MiB) * 1.1;
        double maxConn = Math.Max(1, _samples.Max(s => s.Connections)) * 1.1;
        double X(double t) => left + (width - left - right) * t / maxT;
        double Y(double v, double max) => top + (height - top - bottom) * (1 - v / max);
        string Points(Func<Sample, double> value, double max) =>
            string.Join(" ", _samples.Select(s => string.Create(CultureInfo.InvariantCulture, $"{X(s.Seconds):0.0},{Y(value(s), max):0.0}")));

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"18\" font-size=\"13\">presenced under churn: VmRSS (blue, MiB, left) and open connections (orange, right)</text>\n");
        for (int i = 0; i <= 4; i++)
        {
            double y = top + (height - top - bottom) * i / 4.0;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{y:0.0}\" x2=\"{width - right}\" y2=\"{y:0.0}\" stroke=\"#ddd\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{y + 4:0.0}\" text-anchor=\"end\" fill=\"#1f77b4\">{maxRss * (4 - i) / 4:0}</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width - right + 6}\" y=\"{y + 4:0.0}\" fill=\"#ff7f0e\">{maxConn * (4 - i) / 4:0}</text>\n");
        }
        for (int i = 0; i <= 5; i++)
        {
            double t = maxT * i / 5;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(t):0.0}\" y=\"{height - bottom + 16}\" text-anchor=\"middle\">{t:0} s</text>\n");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"1\" points=\"{Points(s => s.Connections, maxConn)}\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"{Points(s => s.RssBytes / MiB, maxRss)}\"/>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }
}
