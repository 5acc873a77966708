using System.Buffers;
using System.Buffers.Binary;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;

namespace PresenceD.Protocol.Tests.Framing;

public sealed class FrameBufferTests
{
    [Fact]
    public void Frames_are_written_back_to_back_with_their_body_length()
    {
        using var buffer = new FrameBuffer(8);
        ClientFrames.Ping(buffer, 1);
        ClientFrames.Publish(buffer, 2, "room", new byte[10_000]);
        ClientFrames.Bye(buffer);
        ReadOnlySpan<byte> written = buffer.WrittenSpan;
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32BigEndian(written));
        int second = 4 + 3;
        int secondLength = (int)BinaryPrimitives.ReadUInt32BigEndian(written[second..]);
        Assert.Equal(2, (int)BinaryPrimitives.ReadUInt32BigEndian(written[(second + 4 + secondLength)..]));
        Assert.Equal(second + 4 + secondLength + 4 + 2, buffer.WrittenCount);
    }

    [Fact]
    public void Clear_keeps_the_array_and_Release_returns_it()
    {
        var buffer = new FrameBuffer(64);
        Assert.Equal(0, buffer.Capacity);
        ClientFrames.Ping(buffer, 1);
        int capacity = buffer.Capacity;
        Assert.True(capacity >= 64);
        buffer.Clear();
        Assert.Equal(0, buffer.WrittenCount);
        Assert.Equal(capacity, buffer.Capacity);
        buffer.Release();
        Assert.Equal(0, buffer.Capacity);
        Assert.True(buffer.WrittenSpan.IsEmpty);
    }

    [Fact]
    public void Truncate_abandons_a_frame_in_progress()
    {
        using var buffer = new FrameBuffer();
        ClientFrames.Ping(buffer, 1);
        int kept = buffer.WrittenCount;
        int start = buffer.BeginFrame();
        buffer.Write([1, 2, 3]);
        buffer.Truncate(start);
        Assert.Equal(kept, buffer.WrittenCount);
    }

    [Fact]
    public void Advance_past_the_span_is_refused()
    {
        using var buffer = new FrameBuffer(16);
        int available = buffer.GetSpan(16).Length;
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(available + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(-1));
    }

    [Fact]
    public void Growing_keeps_what_was_written()
    {
        using var buffer = new FrameBuffer(4);
        byte[] payload = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        ClientFrames.Publish(buffer, 1, "room", payload);
        ReadOnlySequence<byte> sequence = new(buffer.WrittenMemory);
        Assert.Equal(FrameStatus.Complete, FrameReader.TryRead(ref sequence, 200_000, out ReadOnlySequence<byte> body));
        Assert.Equal(payload, ClientRequestDecoder.Decode(body).Payload.ToArray());
    }
}
