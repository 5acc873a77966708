using HdrHistogram;
using PresenceD.Load.Measurement;
using PresenceD.Tests.Shared;

namespace PresenceD.Tools.Tests.Load;

/// <summary>presence-load's own HDR histogram against the HdrHistogram package (2.5.0) as the oracle.</summary>
public sealed class LatencyHistogramTests
{
    private const long OracleLimit = 1_500_000_000_000;

    private static readonly double[] Percentiles = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100];

    private static (LatencyHistogram Ours, LongHistogram Oracle) Both(IEnumerable<long> values)
    {
        var ours = new LatencyHistogram();
        var oracle = new LongHistogram(LatencyHistogram.LowestDiscernibleValue, LatencyHistogram.HighestTrackableValue, LatencyHistogram.SignificantDigits);
        foreach (long value in values)
        {
            ours.Record(value);
            oracle.RecordValue(value);
        }
        return (ours, oracle);
    }

    /// <summary>
    /// Latency-like values: log-normal around 200 µs with a long tail, plus bucket edges. Capped at 25 minutes: from
    /// bucket 31 (about 36 minutes) up, HdrHistogram 2.5.0 computes bucket widths with a 32-bit shift that overflows,
    /// so the oracle is wrong there (ours is checked against the layout formula in <see cref="The_top_of_the_range"/>).
    /// </summary>
    private static IEnumerable<long> Sample(int seed, int count)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            yield return (long)Math.Min(OracleLimit, Math.Exp(Math.Log(200_000) + 2.5 * normal));
        }
        foreach (long edge in new long[] { 0, 1, 2047, 2048, 2049, 4095, 4096, 1_000_000_007, OracleLimit }) yield return edge;
    }

    [Theory]
    [InlineData(1, 100_000)]
    [InlineData(2, 1_000)]
    [InlineData(3, 7)]
    public void Percentiles_equal_HdrHistogram(int seed, int count)
    {
        var (ours, oracle) = Both(Sample(seed, count));

        Assert.Equal(oracle.TotalCount, ours.Count);
        foreach (double percentile in Percentiles)
            Assert.True(oracle.GetValueAtPercentile(percentile) == ours.ValueAtPercentile(percentile),
                $"p{percentile}: HdrHistogram {oracle.GetValueAtPercentile(percentile)}, ours {ours.ValueAtPercentile(percentile)}");
        Assert.Equal(oracle.GetMaxValue(), oracle.HighestEquivalentValue(ours.Max));
    }

    [Fact]
    public void The_layout_is_HdrHistograms()
    {
        var oracle = new LongHistogram(LatencyHistogram.LowestDiscernibleValue, LatencyHistogram.HighestTrackableValue, LatencyHistogram.SignificantDigits);

        Assert.Equal(oracle.BucketCount, LatencyHistogram.BucketCount);
        foreach (long value in new long[] { 0, 1, 1023, 1024, 2047, 2048, 3000, 123_456_789, OracleLimit })
        {
            int index = LatencyHistogram.IndexOf(value);
            Assert.Equal(oracle.LowestEquivalentValue(value), LatencyHistogram.ValueAt(index));
            Assert.Equal(oracle.HighestEquivalentValue(value), LatencyHistogram.HighestEquivalentValueAt(index));
        }
    }

    [Fact]
    public void The_top_of_the_range()
    {
        // One hour lies in bucket 31: sub-buckets 2^31 ns wide; its sub-bucket starts at (value >> 31) << 31.
        int index = LatencyHistogram.IndexOf(LatencyHistogram.HighestTrackableValue);
        long low = (LatencyHistogram.HighestTrackableValue >> 31) << 31;
        Assert.Equal(low, LatencyHistogram.ValueAt(index));
        Assert.Equal(low + (1L << 31) - 1, LatencyHistogram.HighestEquivalentValueAt(index));
        Assert.True(index < LatencyHistogram.CountsLength);
    }

    [Fact]
    public void Values_below_2048_are_exact_and_larger_ones_within_a_thousandth()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.ValueAtPercentile(50));
        histogram.Record(3);
        histogram.Record(7);
        Assert.Equal(3, histogram.ValueAtPercentile(50));
        Assert.Equal(7, histogram.ValueAtPercentile(100));

        histogram.Clear();
        histogram.Record(123_456_789);
        Assert.InRange(histogram.ValueAtPercentile(50), 123_456_789, 123_456_789 * 1.001);
        Assert.Equal(123_456_789, histogram.Max);
    }

    [Fact]
    public void Out_of_range_values_are_clamped_not_lost()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);
        histogram.Record(long.MaxValue);

        Assert.Equal(2, histogram.Count);
        Assert.Equal(0, histogram.ValueAtPercentile(1));
        Assert.Equal(LatencyHistogram.HighestTrackableValue, histogram.Max);
    }

    [Fact]
    public void Recording_allocates_nothing()
    {
        var histogram = new LatencyHistogram();
        void RecordMany()
        {
            for (long v = 0; v < 100_000; v++) histogram.Record(v * 997);
        }
        Assert.Equal(0, Allocations.Least(RecordMany));
    }

    [Fact]
    public void Merging_adds_counts_and_keeps_the_largest_max()
    {
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        a.Record(10);
        b.Record(1_000_000);
        b.Record(20);

        a.Add(b);

        Assert.Equal(3, a.Count);
        Assert.Equal(1_000_000, a.Max);
        a.Clear();
        Assert.Equal(0, a.Count);
    }

    [Fact]
    public void An_interval_is_the_difference_of_two_snapshots()
    {
        var recorder = new LatencyRecorder();
        recorder.Record(1_000);
        recorder.Record(2_000);
        LatencyHistogram first = recorder.Snapshot();
        recorder.Record(5_000_000);
        LatencyHistogram second = recorder.Snapshot();

        var interval = new LatencyHistogram();
        interval.SetDifference(second, first);

        Assert.Equal(1, interval.Count);
        Assert.Equal(LatencyHistogram.HighestEquivalentValueAt(LatencyHistogram.IndexOf(5_000_000)), interval.ValueAtPercentile(50));
        Assert.InRange(interval.Max, 5_000_000, 5_000_000 * 1.001);
    }
}
