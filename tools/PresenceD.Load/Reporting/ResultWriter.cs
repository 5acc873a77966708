using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace PresenceD.Load.Reporting;

/// <summary>Prints a result as a table (a boxed one on a terminal, plain text otherwise) or as JSON (scripts).</summary>
internal static class ResultWriter
{
    /// <summary>The summary's rows, shared by the terminal table and the plain one.</summary>
    public static IEnumerable<(string Measure, string Value)> Rows(LoadResult r)
    {
        string unit = r.Scenario == "churn" ? "requests" : "messages";
        yield return ("connections", N(r.Connections));
        yield return ("rooms", N(r.Rooms));
        yield return ("payload (bytes)", N(r.Payload));
        yield return ("loop", r.Loop == "open" ? "open (latency from the due time)" : "closed (latency from the send)");
        if (r.TargetRate is { } target) yield return ($"target rate ({unit}/s)", F(target, 1));
        if (r.Window > 0) yield return ("window per publisher", N(r.Window));
        yield return ("setup (s)", F(r.SetupSeconds, 2));
        yield return ("measured (s)", F(r.Seconds, 2));
        yield return ($"{unit} sent", N(r.Sent));
        yield return ($"achieved rate ({unit}/s)", F(r.SentPerSecond, 1));
        yield return (r.Scenario == "churn" ? "replies" : r.Scenario == "idle" ? "pongs" : "deliveries", N(r.Delivered));
        if (r.Expected > 0) yield return ("expected", N(r.Expected));
        yield return (r.Scenario == "churn" ? "replies/s" : "deliveries/s", N((long)r.DeliveriesPerSecond));
        if (r.Scenario != "idle")
        {
            yield return ($"latency of", $"{r.LatencyOf}, {N(r.Latency.Samples)} samples");
            foreach ((string name, long ns) in r.Latency.Values) yield return ($"latency {Percentile(name)} (us)", Us(ns, r.Latency.Samples));
        }
        if (r.PacerLag is { } lag)
        {
            yield return ("pacer lag p99 (us)", Us(lag.P99, lag.Samples));
            yield return ("pacer lag max (us)", Us(lag.Max, lag.Samples));
        }
        yield return ("errors", r.ErrorTotal == 0 ? "0" : string.Join(", ", r.Errors.Select(e => $"{e.Key}: {e.Value}")));
        if (r.Alive is { } alive) yield return ("alive", $"{N(alive)} of {N(r.Connections)}");
        if (r.ConnectionsOpened is { } opened) yield return ("connections opened", N(opened));
        if (r.PresenceDiffs is { } diffs) yield return ("presence diffs", N(diffs));
        if (r.Storms is { } storms) yield return ("reconnect storms", N(storms));
        if (r.ServerRssMb is { } rss) yield return ("server RSS (MB)", F(rss, 1));
        if (r.ServerCpuSeconds is { } cpu) yield return ("server CPU (s)", F(cpu, 2));
        if (r.ServerCpuSeconds is { } serverCpu && r.Delivered > 0) yield return ("server CPU per delivery (us)", F(serverCpu * 1e6 / r.Delivered, 2));
        yield return ("client CPU (s)", F(r.ClientCpuSeconds, 2));
        if (r.KbPerConnection is { } kb) yield return ("server KB per connection", F(kb, 1));
    }

    /// <summary>The boxed table, for a terminal.</summary>
    public static void WriteTable(IAnsiConsole console, LoadResult r)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"presence-load {r.Scenario} @ {r.Server}"));
        table.AddColumn("measure");
        table.AddColumn(new TableColumn("value").RightAligned());
        foreach ((string measure, string value) in Rows(r)) table.AddRow(Markup.Escape(measure), Markup.Escape(value));
        console.Write(table);
    }

    /// <summary>Two aligned columns of plain text (no colour, no box drawing): what stdout gets when it is a file or a pipe.</summary>
    public static void WritePlain(TextWriter output, LoadResult r)
    {
        List<(string Measure, string Value)> rows = Rows(r).ToList();
        int width = rows.Max(row => row.Measure.Length);
        output.WriteLine($"presence-load {r.Scenario} @ {r.Server}");
        foreach ((string measure, string value) in rows) output.WriteLine(measure.PadRight(width + 2) + value);
    }

    /// <summary>The header of the live --interval rows (plain text, one row per interval).</summary>
    public static string IntervalHeader(bool paced) =>
        "   t_s   sent/s  deliveries/s  p50_us  p90_us  p99_us p99.9_us  max_us" + (paced ? " lag_p99_us lag_max_us" : "");

    public static string IntervalLine(IntervalRow row)
    {
        var line = new StringBuilder();
        LatencySummary l = row.Latency;
        line.Append(CultureInfo.InvariantCulture, $"{row.StartSeconds + row.Seconds,6:0.0} {row.SentPerSecond,8:0} {row.DeliveriesPerSecond,13:0}");
        line.Append(CultureInfo.InvariantCulture, $" {Us(l.P50, l.Samples),7} {Us(l.P90, l.Samples),7} {Us(l.P99, l.Samples),7} {Us(l.P999, l.Samples),8} {Us(l.Max, l.Samples),7}");
        if (row.PacerLag is { } lag) line.Append(CultureInfo.InvariantCulture, $" {Us(lag.P99, lag.Samples),10} {Us(lag.Max, lag.Samples),10}");
        return line.ToString();
    }

    public static string ToJson(LoadResult r)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("scenario", r.Scenario);
            json.WriteString("server", r.Server);
            json.WriteBoolean("ok", r.Ok);
            json.WriteString("loop", r.Loop);
            NumberOrNull(json, "target_rate", r.TargetRate);
            json.WriteNumber("connections", r.Connections);
            json.WriteNumber("rooms", r.Rooms);
            json.WriteNumber("payload", r.Payload);
            json.WriteNumber("window", r.Window);
            json.WriteNumber("setup_s", Round(r.SetupSeconds, 3));
            json.WriteNumber("seconds", Round(r.Seconds, 3));
            json.WriteNumber("send_s", Round(r.SendSeconds, 3));
            json.WriteNumber("sent", r.Sent);
            json.WriteNumber("delivered", r.Delivered);
            json.WriteNumber("expected", r.Expected);
            json.WriteNumber("sent_per_s", Round(r.SentPerSecond, 1));
            json.WriteNumber("deliveries_per_s", Round(r.DeliveriesPerSecond, 1));
            json.WritePropertyName("latency_us");
            WriteLatency(json, r.Latency, r.LatencyOf, r.LatencyFromDueTime ? "due" : "send");
            json.WritePropertyName("pacer_lag_us");
            if (r.PacerLag is { } lag) WriteLatency(json, lag, null, null);
            else json.WriteNullValue();
            NumberOrNull(json, "interval_s", r.IntervalSeconds > 0 ? r.IntervalSeconds : null, 3);
            json.WriteStartArray("intervals");
            foreach (IntervalRow row in r.Intervals)
            {
                json.WriteStartObject();
                json.WriteNumber("t_s", Round(row.StartSeconds, 3));
                json.WriteNumber("seconds", Round(row.Seconds, 3));
                json.WriteNumber("sent", row.Sent);
                json.WriteNumber("delivered", row.Delivered);
                json.WriteNumber("sent_per_s", Round(row.SentPerSecond, 1));
                json.WriteNumber("deliveries_per_s", Round(row.DeliveriesPerSecond, 1));
                json.WritePropertyName("latency_us");
                WriteLatency(json, row.Latency, null, null);
                json.WritePropertyName("pacer_lag_us");
                if (row.PacerLag is { } rowLag) WriteLatency(json, rowLag, null, null);
                else json.WriteNullValue();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartObject("errors");
            foreach (KeyValuePair<string, long> error in r.Errors) json.WriteNumber(error.Key, error.Value);
            json.WriteEndObject();
            NumberOrNull(json, "server_rss_mb", r.ServerRssMb);
            NumberOrNull(json, "server_cpu_s", r.ServerCpuSeconds);
            json.WriteNumber("client_cpu_s", Round(r.ClientCpuSeconds, 3));
            NumberOrNull(json, "kb_per_conn", r.KbPerConnection);
            NumberOrNull(json, "alive", r.Alive);
            NumberOrNull(json, "connections_opened", r.ConnectionsOpened);
            NumberOrNull(json, "presence_diffs", r.PresenceDiffs);
            NumberOrNull(json, "storms", r.Storms);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>{of?, from?, samples, p50 … p9999, max} in microseconds; the percentiles are null when there are no samples.</summary>
    private static void WriteLatency(Utf8JsonWriter json, LatencySummary latency, string? of, string? from)
    {
        json.WriteStartObject();
        if (of is not null) json.WriteString("of", of);
        if (from is not null) json.WriteString("from", from);
        json.WriteNumber("samples", latency.Samples);
        foreach ((string name, long ns) in latency.Values) NumberOrNull(json, name, latency.Samples > 0 ? ns / 1000.0 : null);
        json.WriteEndObject();
    }

    private static string Percentile(string name) => name switch
    {
        "max" => "max",
        "p999" => "p99.9",
        "p9999" => "p99.99",
        _ => name,
    };

    private static void NumberOrNull(Utf8JsonWriter json, string name, double? value, int digits = 1)
    {
        if (value is { } v && !double.IsNaN(v) && !double.IsInfinity(v)) json.WriteNumber(name, Round(v, digits));
        else json.WriteNull(name);
    }

    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);

    private static string Us(long nanoseconds, long samples) => samples == 0 ? "-" : (nanoseconds / 1000.0).ToString("0.0", CultureInfo.InvariantCulture);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value, int digits) =>
        double.IsNaN(value) ? "-" : value.ToString("N" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
