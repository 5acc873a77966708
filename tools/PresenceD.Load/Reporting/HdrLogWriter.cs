using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using PresenceD.Load.Measurement;

namespace PresenceD.Load.Reporting;

/// <summary>
/// Writes histograms in HdrHistogram's interval log format (version 1.3), which HistogramLogReader (Java, .NET),
/// HistogramLogProcessor and the HdrHistogram plotters read: a header, then one line per interval,
/// <c>start,length,max,base64</c>, times in seconds relative to the BaseTime, max in milliseconds (values are
/// nanoseconds), and the histogram in the V2 compressed encoding (big-endian header, ZigZag LEB128 counts with
/// runs of zeros as negative numbers, zlib-deflated). Lines with a <c>Tag=</c> carry another measure of the same run.
/// </summary>
internal sealed class HdrLogWriter : IDisposable
{
    private const int EncodingCookieV2 = 0x1c849303 | 0x10;
    private const int CompressedEncodingCookieV2 = 0x1c849304 | 0x10;
    private const double NanosecondsPerMillisecond = 1e6;

    private readonly TextWriter _log;

    private bool _headerWritten;

    /// <summary>Creates (or truncates) <paramref name="path"/> now, so a bad path fails before the run.</summary>
    public HdrLogWriter(string path)
        : this(new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false)))
    {
    }

    public HdrLogWriter(TextWriter log)
    {
        _log = log;
        _log.NewLine = "\n";
    }

    /// <summary>The header, for a measured phase that began at <paramref name="startTime"/> (the intervals' time 0).</summary>
    public void WriteHeader(DateTimeOffset startTime)
    {
        if (_headerWritten) return;
        _headerWritten = true;
        double epochSeconds = startTime.ToUnixTimeMilliseconds() / 1000.0;
        _log.WriteLine("#[Histogram log format version 1.3]");
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"#[StartTime: {epochSeconds:F3} (seconds since epoch), {startTime.UtcDateTime:o}]"));
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"#[BaseTime: {epochSeconds:F3} (seconds since epoch)]"));
        _log.WriteLine("#[presence-load: values in nanoseconds; untagged lines are delivery latency, Tag=pacer_lag the sender's due -> actual delay]");
        _log.WriteLine("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"");
        _log.Flush();
    }

    /// <summary>Appends one interval: <paramref name="startSeconds"/> after the BaseTime, lasting <paramref name="seconds"/>.</summary>
    public void Append(LatencyHistogram histogram, double startSeconds, double seconds, string? tag = null)
    {
        string payload = Convert.ToBase64String(EncodeCompressed(histogram));
        string prefix = tag is null ? "" : "Tag=" + tag + ",";
        double maxMs = histogram.Count == 0 ? 0 : histogram.Max / NanosecondsPerMillisecond;
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{prefix}{startSeconds:F3},{seconds:F3},{maxMs:F3},{payload}"));
        _log.Flush();
    }

    public void Dispose() => _log.Dispose();

    /// <summary>HdrHistogram's V2 compressed encoding: cookie, compressed length, then the zlib stream of the V2 encoding.</summary>
    public static byte[] EncodeCompressed(LatencyHistogram histogram)
    {
        byte[] plain = Encode(histogram);
        using var deflated = new MemoryStream();
        using (var zlib = new ZLibStream(deflated, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(plain);
        byte[] compressed = deflated.ToArray();
        var result = new byte[8 + compressed.Length];
        BinaryPrimitives.WriteInt32BigEndian(result, CompressedEncodingCookieV2);
        BinaryPrimitives.WriteInt32BigEndian(result.AsSpan(4), compressed.Length);
        compressed.CopyTo(result, 8);
        return result;
    }

    /// <summary>
    /// The V2 encoding: cookie, payload length, normalizing index offset (0), significant digits, lowest discernible
    /// and highest trackable value, integer-to-double ratio (1.0), then the counts up to the highest non-empty one.
    /// </summary>
    public static byte[] Encode(LatencyHistogram histogram)
    {
        ReadOnlySpan<long> counts = histogram.Counts[..(Math.Max(histogram.TopIndex(), 0) + 1)];
        var payload = new MemoryStream();
        for (int i = 0; i < counts.Length;)
        {
            long count = counts[i++];
            if (count != 0)
            {
                WriteZigZag(payload, count);
                continue;
            }
            long zeros = 1;
            while (i < counts.Length && counts[i] == 0)
            {
                zeros++;
                i++;
            }
            WriteZigZag(payload, zeros > 1 ? -zeros : 0);
        }
        var header = new byte[40];
        BinaryPrimitives.WriteInt32BigEndian(header, EncodingCookieV2);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), (int)payload.Length);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 0);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), LatencyHistogram.SignificantDigits);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(16), LatencyHistogram.LowestDiscernibleValue);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(24), LatencyHistogram.HighestTrackableValue);
        BinaryPrimitives.WriteDoubleBigEndian(header.AsSpan(32), 1.0);
        return [.. header, .. payload.ToArray()];
    }

    /// <summary>ZigZag, then LEB128 with at most 9 bytes (the ninth carries 8 bits): HdrHistogram's "LEB128-64b9B".</summary>
    private static void WriteZigZag(Stream output, long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        for (int i = 0; i < 8; i++)
        {
            if (v >> 7 == 0)
            {
                output.WriteByte((byte)v);
                return;
            }
            output.WriteByte((byte)((v & 0x7F) | 0x80));
            v >>= 7;
        }
        output.WriteByte((byte)v);
    }
}
