using PresenceD.Load.Measurement;

namespace PresenceD.Tools.Tests.Load;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Quantiles_are_within_the_bucket_error()
    {
        var histogram = new LatencyHistogram();
        for (long v = 1; v <= 100_000; v++) histogram.Record(v * 1000);

        Assert.Equal(100_000, histogram.Count);
        Assert.InRange(histogram.Quantile(0.50), 50_000_000 * 0.97, 50_000_000 * 1.03);
        Assert.InRange(histogram.Quantile(0.99), 99_000_000 * 0.97, 99_000_000 * 1.03);
        Assert.InRange(histogram.Quantile(0.999), 99_900_000 * 0.97, 99_900_000 * 1.03);
        Assert.Equal(100_000_000, histogram.Max);
    }

    [Fact]
    public void Small_values_are_exact_and_an_empty_histogram_has_no_quantiles()
    {
        var histogram = new LatencyHistogram();
        Assert.True(double.IsNaN(histogram.Quantile(0.5)));
        histogram.Record(3);
        histogram.Record(7);
        Assert.Equal(3, histogram.Quantile(0.5));
        Assert.Equal(7, histogram.Quantile(1.0));
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
}
