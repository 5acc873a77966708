using HdrHistogram;
using PresenceD.Load.Measurement;
using PresenceD.Load.Reporting;

namespace PresenceD.Tools.Tests.Load;

/// <summary>The --hdr-out log, read back with HdrHistogram's own HistogramLogReader.</summary>
public sealed class HdrLogTests
{
    [Fact]
    public void HistogramLogReader_reads_every_interval_with_its_counts_times_and_tags()
    {
        var intervals = new List<LatencyHistogram>();
        var random = new Random(7);
        for (int i = 0; i < 3; i++)
        {
            var histogram = new LatencyHistogram();
            for (int n = 0; n < 1000 * (i + 1); n++) histogram.Record(random.NextInt64(1_000, 50_000_000));
            intervals.Add(histogram);
        }
        var lag = new LatencyHistogram();
        lag.Record(300_000_000);
        string path = Path.Combine(Path.GetTempPath(), $"presence-load-{Guid.NewGuid():N}.hdr");
        var start = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        try
        {
            using (var log = new HdrLogWriter(path))
            {
                log.WriteHeader(start);
                for (int i = 0; i < intervals.Count; i++) log.Append(intervals[i], i * 1.0, 1.0);
                log.Append(lag, 0, 3.0, "pacer_lag");
            }

            List<HistogramBase> read;
            using (FileStream file = File.OpenRead(path))
                read = new HistogramLogReader(file).ReadHistograms().ToList();

            Assert.Equal(4, read.Count);
            for (int i = 0; i < intervals.Count; i++)
            {
                Assert.Null(read[i].Tag);
                Assert.Equal(intervals[i].Count, read[i].TotalCount);
                foreach (double percentile in new[] { 50, 90, 99, 99.9, 100 })
                    Assert.Equal(intervals[i].ValueAtPercentile(percentile), read[i].GetValueAtPercentile(percentile));
                Assert.Equal(start.ToUnixTimeMilliseconds() + i * 1000, read[i].StartTimeStamp);
                Assert.Equal(start.ToUnixTimeMilliseconds() + (i + 1) * 1000, read[i].EndTimeStamp);
            }
            Assert.Equal("pacer_lag", read[3].Tag);
            Assert.Equal(1, read[3].TotalCount);
            Assert.Equal(read[3].HighestEquivalentValue(300_000_000), read[3].GetMaxValue());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void An_empty_interval_is_a_valid_histogram()
    {
        var text = new StringWriter();
        using (var log = new HdrLogWriter(text))
        {
            log.WriteHeader(DateTimeOffset.UtcNow);
            log.Append(new LatencyHistogram(), 0, 1);
        }
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text.ToString()));

        HistogramBase histogram = Assert.Single(new HistogramLogReader(stream).ReadHistograms().ToList());

        Assert.Equal(0, histogram.TotalCount);
    }
}
