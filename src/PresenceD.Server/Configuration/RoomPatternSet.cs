namespace PresenceD.Server.Configuration;

/// <summary>
/// The <c>history_rooms</c> setting: comma separated room patterns, each an exact name or a
/// prefix ending in <c>*</c> (a lone <c>*</c> matches every room). Empty matches nothing.
/// </summary>
internal sealed class RoomPatternSet
{
    public static readonly RoomPatternSet Empty = new([], []);

    private readonly HashSet<string> _exact;
    private readonly string[] _prefixes;

    private RoomPatternSet(HashSet<string> exact, string[] prefixes)
    {
        _exact = exact;
        _prefixes = prefixes;
    }

    public bool IsEmpty => _exact.Count == 0 && _prefixes.Length == 0;

    /// <summary>Parses a pattern list; throws <see cref="FormatException"/> for an empty item or a misplaced '*'.</summary>
    public static RoomPatternSet Parse(string patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        if (patterns.Trim().Length == 0)
        {
            return Empty;
        }

        var exact = new HashSet<string>(StringComparer.Ordinal);
        var prefixes = new List<string>();
        foreach (string raw in patterns.Split(','))
        {
            string pattern = raw.Trim();
            if (pattern.Length == 0)
            {
                throw new FormatException($"'{patterns}' has an empty room pattern");
            }

            int star = pattern.IndexOf('*', StringComparison.Ordinal);
            if (star < 0)
            {
                exact.Add(pattern);
            }
            else if (star == pattern.Length - 1)
            {
                prefixes.Add(pattern[..^1]);
            }
            else
            {
                throw new FormatException($"room pattern '{pattern}' may only end in '*'");
            }
        }

        return new RoomPatternSet(exact, [.. prefixes]);
    }

    /// <summary>The normal form of a pattern list: items trimmed, joined by ','.</summary>
    public static string Normalize(string patterns)
        => string.Join(',', patterns.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    public bool Matches(string room)
    {
        if (_exact.Contains(room))
        {
            return true;
        }

        foreach (string prefix in _prefixes)
        {
            if (room.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
