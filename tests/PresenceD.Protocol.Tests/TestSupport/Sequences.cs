using System.Buffers;

namespace PresenceD.Protocol.Tests.TestSupport;

/// <summary>Builds <see cref="ReadOnlySequence{T}"/> values of one or many segments, as a socket pipe would hand them over.</summary>
internal static class Sequences
{
    public static ReadOnlySequence<byte> Single(byte[] bytes) => new(bytes);

    /// <summary>A sequence whose segments are the given chunks, in order (empty chunks included).</summary>
    public static ReadOnlySequence<byte> FromChunks(IReadOnlyList<byte[]> chunks)
    {
        if (chunks.Count == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(chunks[0], 0);
        Segment last = first;
        for (int i = 1; i < chunks.Count; i++) last = last.Append(chunks[i]);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Every byte in a segment of its own.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(byte[] bytes) =>
        FromChunks(bytes.Select(b => new[] { b }).ToArray());

    /// <summary>Split at random points (some chunks empty), reproducible from <paramref name="random"/>.</summary>
    public static ReadOnlySequence<byte> RandomSplit(byte[] bytes, Random random)
    {
        var chunks = new List<byte[]>();
        int at = 0;
        while (at < bytes.Length)
        {
            int size = random.Next(0, Math.Min(bytes.Length - at, 17) + 1);
            chunks.Add(bytes.AsSpan(at, size).ToArray());
            at += size;
        }
        if (chunks.Count == 0) chunks.Add([]);
        return FromChunks(chunks);
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
