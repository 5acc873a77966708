using System.Numerics;

namespace PresenceD.Load.Measurement;

/// <summary>
/// An HDR histogram of nanosecond values with HdrHistogram's own bucket layout (lowest discernible value 1, highest
/// trackable one hour, 3 significant digits: 2,048 sub-buckets per power of two, 0.05 % relative error), so its
/// percentiles are the values HdrHistogram reports and its counts can be written in HdrHistogram's log format.
/// Recording is an array increment: no allocation, no lock. One writer per instance (each receive thread has its
/// own); readers on other threads see a count at most a few records behind (plain 64-bit reads), which is what
/// interval snapshots taken while receivers run need.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>One hour in nanoseconds: larger values are recorded as this (a run never waits that long for a reply).</summary>
    public const long HighestTrackableValue = 3_600_000_000_000;

    public const int SignificantDigits = 3;

    public const long LowestDiscernibleValue = 1;

    // 2 × 10^3 needs 11 bits of unit resolution: sub-buckets 2,048, half 1,024 (HdrHistogram's derivation).
    private const int SubBucketHalfCountMagnitude = 10;
    private const int SubBucketCount = 1 << (SubBucketHalfCountMagnitude + 1);
    private const int SubBucketHalfCount = SubBucketCount / 2;
    private const long SubBucketMask = SubBucketCount - 1;
    private const int BucketIndexOffset = 64 - (SubBucketHalfCountMagnitude + 1);

    public static readonly int BucketCount = BucketsToCover(HighestTrackableValue);

    /// <summary>Length of the counts array: (buckets + 1) × half the sub-buckets, as HdrHistogram lays it out.</summary>
    public static readonly int CountsLength = (BucketCount + 1) * SubBucketHalfCount;

    private readonly long[] _counts = new long[CountsLength];
    private long _count;
    private long _max;

    public long Count => Volatile.Read(ref _count);

    /// <summary>The largest value recorded, exact (not rounded to its bucket).</summary>
    public long Max => Volatile.Read(ref _max);

    public void Record(long nanoseconds)
    {
        long value = Math.Clamp(nanoseconds, 0, HighestTrackableValue);
        _counts[IndexOf(value)]++;
        Volatile.Write(ref _count, _count + 1);
        if (value > _max) Volatile.Write(ref _max, value);
    }

    /// <summary>Adds another histogram's counts (read without a lock: exact once its writer is quiet).</summary>
    public void Add(LatencyHistogram other)
    {
        long added = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            long n = Volatile.Read(ref other._counts[i]);
            _counts[i] += n;
            added += n;
        }
        _count += added;
        _max = Math.Max(_max, other.Max);
    }

    /// <summary>
    /// Makes this <paramref name="current"/> − <paramref name="earlier"/> (two snapshots of the same cumulative
    /// histograms): the values recorded in between. Its max is the top of the highest non-empty bucket.
    /// </summary>
    public void SetDifference(LatencyHistogram current, LatencyHistogram earlier)
    {
        long count = 0;
        int top = -1;
        for (int i = 0; i < _counts.Length; i++)
        {
            long n = Math.Max(0, current._counts[i] - earlier._counts[i]);
            _counts[i] = n;
            count += n;
            if (n > 0) top = i;
        }
        _count = count;
        _max = top < 0 ? 0 : Math.Min(current.Max, HighestEquivalentValueAt(top));
    }

    public void CopyFrom(LatencyHistogram other)
    {
        Array.Copy(other._counts, _counts, _counts.Length);
        _count = other._count;
        _max = other._max;
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Volatile.Write(ref _count, 0);
        Volatile.Write(ref _max, 0);
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0..100) as HdrHistogram computes it: the count at that rank rounded
    /// to nearest, then the highest value equivalent to its bucket; 0 when empty.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        long total = Count;
        if (total == 0) return 0;
        long rank = Math.Max(1, (long)((Math.Min(percentile, 100.0) / 100.0 * total) + 0.5));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return HighestEquivalentValueAt(i);
        }
        return HighestEquivalentValueAt(IndexOf(Max));
    }

    /// <summary>The count at each index, for the log encoder.</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>The counts index of the highest non-empty bucket, or -1.</summary>
    public int TopIndex()
    {
        for (int i = _counts.Length - 1; i >= 0; i--)
            if (_counts[i] != 0) return i;
        return -1;
    }

    public static int IndexOf(long value)
    {
        int bucket = BucketIndexOffset - BitOperations.LeadingZeroCount((ulong)(value | SubBucketMask));
        int subBucket = (int)(value >> bucket);
        return ((bucket + 1) << SubBucketHalfCountMagnitude) + (subBucket - SubBucketHalfCount);
    }

    /// <summary>The lowest value that lands at <paramref name="index"/>.</summary>
    public static long ValueAt(int index)
    {
        (int bucket, int subBucket) = Split(index);
        return (long)subBucket << bucket;
    }

    /// <summary>The highest value that lands at <paramref name="index"/> (what HdrHistogram reports for a percentile).</summary>
    public static long HighestEquivalentValueAt(int index)
    {
        (int bucket, int subBucket) = Split(index);
        return ((long)subBucket << bucket) + (1L << bucket) - 1;
    }

    private static (int Bucket, int SubBucket) Split(int index)
    {
        int bucket = (index >> SubBucketHalfCountMagnitude) - 1;
        int subBucket = (index & (SubBucketHalfCount - 1)) + SubBucketHalfCount;
        if (bucket < 0) return (0, subBucket - SubBucketHalfCount);
        return (bucket, subBucket);
    }

    private static int BucketsToCover(long value)
    {
        long trackable = SubBucketCount - 1;
        int buckets = 1;
        while (trackable < value && trackable > 0)
        {
            trackable <<= 1;
            buckets++;
        }
        return buckets;
    }
}
