using System.Buffers.Binary;
using System.Diagnostics;

namespace PresenceD.Load.Measurement;

/// <summary>Load payloads: the send time (Stopwatch ticks, little-endian int64) followed by filler.</summary>
internal static class Payload
{
    public const int MinSize = 8;

    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    public static byte[] Create(int size)
    {
        var payload = new byte[Math.Max(size, MinSize)];
        payload.AsSpan(MinSize).Fill((byte)'x');
        return payload;
    }

    public static void Stamp(Span<byte> payload, long timestamp) => BinaryPrimitives.WriteInt64LittleEndian(payload, timestamp);

    public static bool TryReadLatency(ReadOnlySpan<byte> payload, long nowTimestamp, out long nanoseconds)
    {
        nanoseconds = 0;
        if (payload.Length < MinSize) return false;
        long sent = BinaryPrimitives.ReadInt64LittleEndian(payload);
        if (sent <= 0 || sent > nowTimestamp) return false;
        nanoseconds = (long)((nowTimestamp - sent) * NanosecondsPerTick);
        return true;
    }
}
