using System.Globalization;

namespace PresenceD.Server.Sessions;

/// <summary>
/// Connection ids unique across the cluster and across restarts: <c>node-incarnation-sequence</c>. The
/// incarnation is the start time in tenths of a second since 2025, in base 36 (6 characters until 2031, 7 until
/// 2273), so a node restarted with the same node_id never hands out an id of an earlier start (a restart takes
/// longer than a tenth of a second); within one process each start takes a later incarnation than the last.
/// </summary>
internal sealed class ConnIds
{
    private static readonly DateTimeOffset IncarnationEpoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static long s_lastIncarnation;

    private readonly string _prefix;
    private long _sequence;

    public ConnIds(string nodeId)
        : this(nodeId, NextIncarnation(DateTimeOffset.UtcNow))
    {
    }

    internal ConnIds(string nodeId, long incarnation)
    {
        NodeId = nodeId;
        Incarnation = ToBase36(incarnation);
        _prefix = nodeId + "-" + Incarnation + "-";
    }

    public string NodeId { get; }

    /// <summary>This start's part of every id, in base 36.</summary>
    public string Incarnation { get; }

    public string Next() => _prefix + Interlocked.Increment(ref _sequence).ToString("x", CultureInfo.InvariantCulture);

    /// <summary>A node id for a node not given one: random, so two nodes never share it by accident.</summary>
    public static string NewNodeId() => "n" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();

    /// <summary>Tenths of a second since 2025 at <paramref name="now"/>, and always above the last one this process took.</summary>
    internal static long NextIncarnation(DateTimeOffset now)
    {
        long wanted = Math.Max(0, (now - IncarnationEpoch).Ticks / (TimeSpan.TicksPerSecond / 10));
        while (true)
        {
            long last = Volatile.Read(ref s_lastIncarnation);
            long next = Math.Max(wanted, last + 1);
            if (Interlocked.CompareExchange(ref s_lastIncarnation, next, last) == last) return next;
        }
    }

    internal static string ToBase36(long value)
    {
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<char> text = stackalloc char[13];
        int at = text.Length;
        do
        {
            text[--at] = Digits[(int)(value % 36)];
            value /= 36;
        }
        while (value > 0);
        return new string(text[at..]);
    }
}
