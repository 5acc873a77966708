using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PresenceD.Load.Reporting;

/// <summary>
/// --compare: two --json results side by side, one row per field (nested ones as latency_us.p99), with b / a for
/// numbers. The interval time series is left out (it is for plotting); fields only one side has show "-" on the other.
/// </summary>
internal static class ResultComparer
{
    public static string Compare(string nameA, string jsonA, string nameB, string jsonB)
    {
        List<(string Field, string? Text, double? Number)> a = Flatten(nameA, jsonA), b = Flatten(nameB, jsonB);
        var fields = a.Select(f => f.Field).ToList();
        foreach (var (field, _, _) in b)
        {
            if (fields.Contains(field)) continue;
            // A block only b has (a's is null): its rows go right after a's null row of the same name.
            int parent = fields.FindLastIndex(f => f == Parent(field) || (Parent(f) == Parent(field) && Parent(f).Length > 0));
            fields.Insert(parent < 0 ? fields.Count : parent + 1, field);
        }
        var rows = new List<string[]> { new[] { "field", "a", "b", "b/a" } };
        foreach (string field in fields)
        {
            var left = a.FirstOrDefault(f => f.Field == field);
            var right = b.FirstOrDefault(f => f.Field == field);
            rows.Add([field, Show(left), Show(right), Ratio(left.Number, right.Number)]);
        }
        int[] widths = Enumerable.Range(0, 4).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        text.Append("a = ").Append(nameA).Append('\n').Append("b = ").Append(nameB).Append('\n');
        foreach (string[] row in rows)
        {
            text.Append(row[0].PadRight(widths[0] + 2));
            text.Append(row[1].PadLeft(widths[1])).Append("  ");
            text.Append(row[2].PadLeft(widths[2])).Append("  ");
            text.Append(row[3].PadLeft(widths[3]));
            text.Append('\n');
        }
        return text.ToString();
    }

    private static List<(string Field, string? Text, double? Number)> Flatten(string name, string json)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new FormatException($"{name} is not JSON: {e.Message}", e);
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("scenario", out _))
            throw new FormatException($"{name} is not a presence-load --json result (no \"scenario\")");
        var fields = new List<(string, string?, double?)>();
        Walk(root, "", fields);
        return fields;
    }

    private static void Walk(JsonElement element, string prefix, List<(string, string?, double?)> fields)
    {
        foreach (JsonProperty property in element.EnumerateObject())
        {
            string field = prefix + property.Name;
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Object:
                    Walk(property.Value, field + ".", fields);
                    break;
                case JsonValueKind.Array:
                    break; // The interval series: one row per interval would not line up between two runs.
                case JsonValueKind.Number:
                    fields.Add((field, null, property.Value.GetDouble()));
                    break;
                case JsonValueKind.Null:
                    fields.Add((field, null, null));
                    break;
                case JsonValueKind.String:
                    fields.Add((field, property.Value.GetString(), null));
                    break;
                default:
                    fields.Add((field, property.Value.GetRawText(), null));
                    break;
            }
        }
    }

    private static string Parent(string field) => field.LastIndexOf('.') is var dot and > 0 ? field[..dot] : "";

    private static string Show((string Field, string? Text, double? Number) value) =>
        value.Field is null ? "-"
        : value.Number is { } n ? n.ToString("0.###", CultureInfo.InvariantCulture)
        : value.Text ?? "null";

    private static string Ratio(double? a, double? b) =>
        a is { } x && b is { } y && x != 0 ? (y / x).ToString("0.000", CultureInfo.InvariantCulture) : "-";
}
