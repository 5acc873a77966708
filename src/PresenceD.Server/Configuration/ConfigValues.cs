using System.Globalization;
using System.Net;

namespace PresenceD.Server.Configuration;

/// <summary>
/// Parsing and printing of presenced.conf values. Durations: <c>500ms</c>, <c>5s</c>, <c>2m</c>,
/// <c>1h</c>, a bare number is seconds. Sizes: <c>512b</c>, <c>64kb</c>, <c>1mb</c>, <c>1gb</c>
/// (1 kb = 1024 bytes), a bare number is bytes. Units are case-insensitive. Errors are
/// <see cref="FormatException"/>s whose message is shown after the source of the value.
/// </summary>
internal static class ConfigValues
{
    private static readonly (string Suffix, long Ms)[] DurationUnits = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];
    private static readonly (string Suffix, long Bytes)[] SizeUnits = [("b", 1), ("kb", 1L << 10), ("mb", 1L << 20), ("gb", 1L << 30)];

    public static TimeSpan ParseDuration(string text)
    {
        if (!TrySplitNumber(text, out long number, out string unit))
        {
            throw new FormatException($"'{text}' is not a duration (e.g. 500ms, 5s, 2m, 1h; a bare number is seconds)");
        }

        long scale = unit.Length == 0 ? 1_000 : Lookup(DurationUnits, unit)
            ?? throw new FormatException($"'{text}' has an unknown duration unit '{unit}' (use ms, s, m or h)");
        long ms = Multiply(number, scale, text);
        return TimeSpan.FromMilliseconds(ms);
    }

    public static string FormatDuration(TimeSpan value)
    {
        long ms = (long)value.TotalMilliseconds;
        if (ms == 0)
        {
            return "0s";
        }

        for (int i = DurationUnits.Length - 1; i >= 0; i--)
        {
            if (ms % DurationUnits[i].Ms == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{ms / DurationUnits[i].Ms}{DurationUnits[i].Suffix}");
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{ms}ms");
    }

    public static long ParseSize(string text)
    {
        if (!TrySplitNumber(text, out long number, out string unit))
        {
            throw new FormatException($"'{text}' is not a size (e.g. 512b, 64kb, 1mb, 1gb; a bare number is bytes)");
        }

        long scale = unit.Length == 0 ? 1 : Lookup(SizeUnits, unit)
            ?? throw new FormatException($"'{text}' has an unknown size unit '{unit}' (use b, kb, mb or gb)");
        return Multiply(number, scale, text);
    }

    public static string FormatSize(long bytes)
    {
        for (int i = SizeUnits.Length - 1; i > 0; i--)
        {
            if (bytes != 0 && bytes % SizeUnits[i].Bytes == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / SizeUnits[i].Bytes}{SizeUnits[i].Suffix}");
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    public static int ParseInt(string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
        {
            throw new FormatException($"'{text}' is not a whole number");
        }

        return CheckRange(value, min, max, text);
    }

    public static int ParsePort(string text, bool allowZero)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535 || (port == 0 && !allowZero))
        {
            throw new FormatException(allowZero ? $"'{text}' is not a port (1-65535, or 0 for off)" : $"'{text}' is not a port (1-65535)");
        }

        return port;
    }

    public static bool ParseBool(string text) => text.ToLowerInvariant() switch
    {
        "on" or "yes" or "true" => true,
        "off" or "no" or "false" => false,
        _ => throw new FormatException($"'{text}' is not on|off (also yes|no, true|false)"),
    };

    public static string FormatBool(bool value) => value ? "on" : "off";

    /// <summary>admin_tls: on|off as before it had optional (so yes, no, true and false still work), or optional.</summary>
    public static TlsMode ParseAdminTls(string text)
    {
        if (text.Equals("optional", StringComparison.OrdinalIgnoreCase)) return TlsMode.Optional;
        try
        {
            return ParseBool(text) ? TlsMode.On : TlsMode.Off;
        }
        catch (FormatException)
        {
            throw new FormatException($"'{text}' is not on|off|optional");
        }
    }

    public static TEnum ParseChoice<TEnum>(string text, IReadOnlyList<(string Name, TEnum Value)> choices)
    {
        foreach ((string name, TEnum value) in choices)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        throw new FormatException($"'{text}' is not one of {string.Join('|', choices.Select(c => c.Name))}");
    }

    public static string FormatChoice<TEnum>(TEnum value, IReadOnlyList<(string Name, TEnum Value)> choices)
        where TEnum : notnull
        => choices.First(c => c.Value.Equals(value)).Name;

    public static string ParseHost(string text)
    {
        if (IPAddress.TryParse(text, out _) || Uri.CheckHostName(text) == UriHostNameType.Dns)
        {
            return text;
        }

        throw new FormatException($"'{text}' is not an IP address or host name");
    }

    public static string ParseToken(string text, bool allowEmpty, string what)
    {
        if (text.Length == 0 && !allowEmpty)
        {
            throw new FormatException($"{what} must not be empty");
        }

        if (text.Any(char.IsWhiteSpace))
        {
            throw new FormatException($"'{text}' is not a valid {what} (no spaces)");
        }

        return text;
    }

    private static int CheckRange(long value, long min, long max, string text)
    {
        if (value < min || value > max)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"'{text}' is out of range ({min}..{max})"));
        }

        return (int)value;
    }

    /// <summary>Range-checked size that must fit an int (buffers and per-item limits).</summary>
    public static int ParseIntSize(string text, int min, int max)
    {
        long bytes = ParseSize(text);
        if (bytes < min || bytes > max)
        {
            throw new FormatException($"'{text}' is out of range ({FormatSize(min)}..{FormatSize(max)})");
        }

        return (int)bytes;
    }

    private static bool TrySplitNumber(string text, out long number, out string unit)
    {
        int digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }

        unit = text[digits..].ToLowerInvariant();
        return long.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out number)
            && unit.All(char.IsAsciiLetter);
    }

    private static long? Lookup((string Suffix, long Scale)[] units, string unit)
    {
        foreach ((string suffix, long scale) in units)
        {
            if (suffix == unit)
            {
                return scale;
            }
        }

        return null;
    }

    private static long Multiply(long number, long scale, string text)
    {
        try
        {
            return checked(number * scale);
        }
        catch (OverflowException)
        {
            throw new FormatException($"'{text}' is too large");
        }
    }
}
