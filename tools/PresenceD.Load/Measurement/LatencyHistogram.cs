using System.Numerics;

namespace PresenceD.Load.Measurement;

/// <summary>
/// Log-linear histogram of nanosecond values: exact below 32, then 32 sub-buckets per power of two (about 3 %
/// relative error), fixed memory, O(1) record. Not thread-safe: one per thread, merged at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 5;
    private const int Sub = 1 << SubBits;
    private readonly long[] _counts = new long[64 * Sub];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public void Record(long nanoseconds)
    {
        if (nanoseconds < 0) nanoseconds = 0;
        _counts[Index(nanoseconds)]++;
        Count++;
        if (nanoseconds > Max) Max = nanoseconds;
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        Count += other.Count;
        if (other.Max > Max) Max = other.Max;
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
        Max = 0;
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1): the middle of its bucket; NaN when empty.</summary>
    public double Quantile(double q)
    {
        if (Count == 0) return double.NaN;
        long rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return Math.Min(Middle(i), Max);
        }
        return Max;
    }

    private static int Index(long value)
    {
        if (value < Sub) return (int)value;
        int msb = 63 - BitOperations.LeadingZeroCount((ulong)value);
        int group = msb - SubBits + 1;
        return group * Sub + (int)((value >> (group - 1)) - Sub);
    }

    private static double Middle(int index)
    {
        if (index < Sub) return index;
        int group = index / Sub;
        long low = (long)(Sub + index % Sub) << (group - 1);
        long width = 1L << (group - 1);
        return low + (width - 1) / 2.0;
    }
}
