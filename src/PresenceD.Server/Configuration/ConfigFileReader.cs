namespace PresenceD.Server.Configuration;

/// <summary>
/// Reads presenced.conf syntax (as redis.conf): one <c>key value</c> per line, blank lines,
/// <c>#</c> comments on their own line or after whitespace, optional double quotes around a
/// value (needed for an empty value or one with spaces or '#'; there are no escapes).
/// </summary>
internal static class ConfigFileReader
{
    public readonly record struct Entry(string Key, string Value, int Line);

    /// <summary>Splits <paramref name="text"/> into entries; <paramref name="sourceName"/> prefixes error messages.</summary>
    public static List<Entry> Parse(string text, string sourceName)
    {
        var entries = new List<Entry>();
        string[] lines = text.Split('\n');
        for (int index = 0; index < lines.Length; index++)
        {
            int lineNumber = index + 1;
            string line = lines[index].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int keyEnd = 0;
            while (keyEnd < line.Length && !char.IsWhiteSpace(line[keyEnd]))
            {
                keyEnd++;
            }

            string key = line[..keyEnd];
            string rest = line[keyEnd..].TrimStart();
            string value = ReadValue(rest, key, $"{sourceName}:{lineNumber}");
            entries.Add(new Entry(key, value, lineNumber));
        }

        return entries;
    }

    /// <summary>The value as presenced.conf needs it written: quoted when empty or when it holds spaces, '#' or a leading quote.</summary>
    public static string Quote(string value)
        => value.Length == 0 || value[0] == '"' || value.Any(c => char.IsWhiteSpace(c) || c == '#') ? $"\"{value}\"" : value;

    private static string ReadValue(string rest, string key, string where)
    {
        if (rest.Length == 0 || rest[0] == '#')
        {
            throw new ConfigException($"{where}: key '{key}' has no value (write \"\" for an empty one)");
        }

        if (rest[0] == '"')
        {
            int close = rest.IndexOf('"', 1);
            if (close < 0)
            {
                throw new ConfigException($"{where}: unterminated quote in the value of '{key}'");
            }

            string after = rest[(close + 1)..];
            if (after.Length > 0 && !(char.IsWhiteSpace(after[0]) && after.TrimStart().StartsWith('#')) && after.Trim().Length > 0)
            {
                throw new ConfigException($"{where}: unexpected text after the quoted value of '{key}'");
            }

            return rest[1..close];
        }

        for (int i = 1; i < rest.Length; i++)
        {
            if (rest[i] == '#' && char.IsWhiteSpace(rest[i - 1]))
            {
                return rest[..i].TrimEnd();
            }
        }

        return rest;
    }
}
