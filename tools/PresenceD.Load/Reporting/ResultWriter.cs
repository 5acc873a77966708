using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace PresenceD.Load.Reporting;

/// <summary>Prints a result as a table (people) or JSON (scripts).</summary>
internal static class ResultWriter
{
    public static void WriteTable(IAnsiConsole console, LoadResult r)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"presence-load {r.Scenario} @ {r.Server}");
        table.AddColumn("measure");
        table.AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("connections", N(r.Connections));
        Row("rooms", N(r.Rooms));
        Row("payload (bytes)", N(r.Payload));
        if (r.Window > 0) Row("window per publisher", N(r.Window));
        Row("setup (s)", F(r.SetupSeconds, 2));
        Row("measured (s)", F(r.Seconds, 2));
        Row(r.Scenario == "churn" ? "requests sent" : "messages sent", N(r.Sent));
        Row(r.Scenario == "churn" ? "replies" : r.Scenario == "idle" ? "pongs" : "deliveries", N(r.Delivered));
        if (r.Expected > 0) Row("expected", N(r.Expected));
        Row(r.Scenario == "churn" ? "replies/s" : "deliveries/s", N((long)r.DeliveriesPerSecond));
        Row($"latency p50 ({r.LatencyOf}, µs)", F(r.P50Us, 0));
        Row("latency p99 (µs)", F(r.P99Us, 0));
        Row("latency p99.9 (µs)", F(r.P999Us, 0));
        Row("latency max (µs)", F(r.MaxUs, 0));
        Row("errors", r.ErrorTotal == 0 ? "0" : string.Join(", ", r.Errors.Select(e => $"{e.Key}: {e.Value}")));
        if (r.ServerRssMb is { } rss) Row("server RSS (MB)", F(rss, 1));
        if (r.ServerCpuSeconds is { } cpu) Row("server CPU (s)", F(cpu, 2));
        if (r.ServerCpuSeconds is { } serverCpu && r.Delivered > 0) Row("server CPU per delivery (µs)", F(serverCpu * 1e6 / r.Delivered, 2));
        Row("client CPU (s)", F(r.ClientCpuSeconds, 2));
        if (r.KbPerConnection is { } kb) Row("server KB per connection", F(kb, 1));
        if (r.Note.Length > 0) Row("note", r.Note);
        console.Write(table);
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
            json.WriteNumber("connections", r.Connections);
            json.WriteNumber("rooms", r.Rooms);
            json.WriteNumber("payload", r.Payload);
            json.WriteNumber("window", r.Window);
            json.WriteNumber("setup_s", Round(r.SetupSeconds, 3));
            json.WriteNumber("seconds", Round(r.Seconds, 3));
            json.WriteNumber("sent", r.Sent);
            json.WriteNumber("delivered", r.Delivered);
            json.WriteNumber("expected", r.Expected);
            json.WriteNumber("deliveries_per_s", Round(r.DeliveriesPerSecond, 1));
            json.WriteStartObject("latency_us");
            json.WriteString("of", r.LatencyOf);
            json.WriteNumber("samples", r.LatencySamples);
            NumberOrNull(json, "p50", r.P50Us);
            NumberOrNull(json, "p99", r.P99Us);
            NumberOrNull(json, "p999", r.P999Us);
            NumberOrNull(json, "max", r.MaxUs);
            json.WriteEndObject();
            json.WriteStartObject("errors");
            foreach (KeyValuePair<string, long> error in r.Errors) json.WriteNumber(error.Key, error.Value);
            json.WriteEndObject();
            NumberOrNull(json, "server_rss_mb", r.ServerRssMb);
            NumberOrNull(json, "server_cpu_s", r.ServerCpuSeconds);
            json.WriteNumber("client_cpu_s", Round(r.ClientCpuSeconds, 3));
            NumberOrNull(json, "kb_per_conn", r.KbPerConnection);
            json.WriteString("note", r.Note);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void NumberOrNull(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v && !double.IsNaN(v) && !double.IsInfinity(v)) json.WriteNumber(name, Round(v, 1));
        else json.WriteNull(name);
    }

    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value, int digits) =>
        double.IsNaN(value) ? "-" : value.ToString("N" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
