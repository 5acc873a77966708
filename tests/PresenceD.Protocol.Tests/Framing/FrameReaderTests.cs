using System.Buffers;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Protocol.Tests.TestSupport;

namespace PresenceD.Protocol.Tests.Framing;

/// <summary>Framing: partial input waits without consuming, bad lengths are refused from the prefix alone, segmentation does not matter.</summary>
public sealed class FrameReaderTests
{
    private static IEnumerable<(string Name, byte[] Frame)> AllSamples => SampleFrames.Client.Concat(SampleFrames.Server);

    [Fact]
    public void Input_cut_at_every_byte_boundary_needs_more_and_leaves_the_buffer_untouched()
    {
        foreach ((string name, byte[] frame) in AllSamples)
        {
            // Large frames: every boundary of the head and tail, and a stride through the middle.
            IEnumerable<int> cuts = frame.Length <= 4096
                ? Enumerable.Range(0, frame.Length)
                : Enumerable.Range(0, 600).Concat(Enumerable.Range(frame.Length - 600, 600)).Concat(Enumerable.Range(0, frame.Length).Where(i => i % 997 == 0));
            foreach (int cut in cuts)
            {
                ReadOnlySequence<byte> buffer = new(frame, 0, cut);
                ReadOnlySequence<byte> before = buffer;
                Assert.True(FrameStatus.NeedMore == FrameReader.TryRead(ref buffer, ProtocolConstants.MaxServerFrame, out _), $"{name} cut at {cut}");
                Assert.Equal(before.Start, buffer.Start);
                Assert.Equal(before.End, buffer.End);
            }
        }
    }

    [Fact]
    public void Back_to_back_frames_cut_at_every_boundary_yield_the_whole_frames_and_keep_the_rest()
    {
        byte[][] frames = SampleFrames.Client.Select(s => s.Frame).Where(f => f.Length < 2000).ToArray();
        byte[] stream = Sequences.Concat(frames);
        var frameEnds = new List<int>();
        int end = 0;
        foreach (byte[] frame in frames) frameEnds.Add(end += frame.Length);

        for (int cut = 0; cut <= stream.Length; cut++)
        {
            ReadOnlySequence<byte> buffer = new(stream, 0, cut);
            int read = 0;
            while (FrameReader.TryRead(ref buffer, ProtocolConstants.DefaultMaxFrame, out ReadOnlySequence<byte> body) == FrameStatus.Complete)
            {
                Assert.Equal(frames[read].AsSpan(4).ToArray(), body.ToArray());
                read++;
            }
            int whole = frameEnds.Count(e => e <= cut);
            Assert.Equal(whole, read);
            Assert.Equal(cut - (whole == 0 ? 0 : frameEnds[whole - 1]), buffer.Length);
        }
    }

    [Fact]
    public void One_byte_segments_and_random_splits_decode_identically()
    {
        byte[] clientStream = Sequences.Concat(SampleFrames.Client.Select(s => s.Frame).ToArray());
        byte[] serverStream = Sequences.Concat(SampleFrames.Server.Select(s => s.Frame).ToArray());
        List<string> expectedClient = ReadClient(Sequences.Single(clientStream));
        List<string> expectedServer = ReadServer(Sequences.Single(serverStream));
        Assert.Equal(SampleFrames.Client.Count, expectedClient.Count);
        Assert.Equal(SampleFrames.Server.Count + SampleFrames.Server.Count(s => s.Name.StartsWith("message", StringComparison.Ordinal)), expectedServer.Count);

        Assert.Equal(expectedClient, ReadClient(Sequences.OneBytePerSegment(clientStream)));
        Assert.Equal(expectedServer, ReadServer(Sequences.OneBytePerSegment(serverStream)));
        var random = new Random(20240601);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(expectedClient, ReadClient(Sequences.RandomSplit(clientStream, random)));
            Assert.Equal(expectedServer, ReadServer(Sequences.RandomSplit(serverStream, random)));
        }
    }

    [Fact]
    public void Each_frame_split_into_one_byte_segments_decodes_identically()
    {
        foreach ((string name, byte[] frame) in SampleFrames.Client.Where(s => s.Frame.Length < 5000))
        {
            Assert.True(ReadClient(Sequences.Single(frame)).SequenceEqual(ReadClient(Sequences.OneBytePerSegment(frame))), name);
        }
        foreach ((string name, byte[] frame) in SampleFrames.Server.Where(s => s.Frame.Length < 5000))
        {
            Assert.True(ReadServer(Sequences.Single(frame)).SequenceEqual(ReadServer(Sequences.OneBytePerSegment(frame))), name);
        }
    }

    [Fact]
    public void Length_prefix_split_across_segments_is_read()
    {
        byte[] frame = SampleFrames.Client[0].Frame;
        for (int split = 1; split < 4; split++)
        {
            ReadOnlySequence<byte> buffer = Sequences.FromChunks([frame[..split], frame[split..]]);
            Assert.Equal(FrameStatus.Complete, FrameReader.TryRead(ref buffer, ProtocolConstants.DefaultMaxFrame, out ReadOnlySequence<byte> body));
            Assert.Equal(frame[4..], body.ToArray());
            Assert.True(buffer.IsEmpty);
        }
    }

    [Fact]
    public void Frame_length_zero_is_rejected_from_the_prefix_alone()
    {
        ReadOnlySequence<byte> buffer = new(new byte[] { 0, 0, 0, 0 });
        Assert.Throws<ProtocolException>(() => FrameReader.TryRead(ref buffer, ProtocolConstants.DefaultMaxFrame, out _));
    }

    [Theory]
    [InlineData(65_537u, 65_536)]
    [InlineData(uint.MaxValue, 65_536)]
    [InlineData(0x8000_0000u, 65_536)]
    [InlineData(101u, 100)]
    public void Frame_over_max_frame_is_rejected_without_its_body(uint length, int maxFrame)
    {
        byte[] prefix = [(byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length];
        ReadOnlySequence<byte> buffer = new(prefix);
        ProtocolException e = Assert.Throws<ProtocolException>(() => FrameReader.TryRead(ref buffer, maxFrame, out _));
        Assert.Equal(ErrorCode.Protocol, e.Code);
        ReadOnlySequence<byte> split = Sequences.OneBytePerSegment(prefix);
        Assert.Throws<ProtocolException>(() => FrameReader.TryRead(ref split, maxFrame, out _));
    }

    [Fact]
    public void Frame_of_exactly_max_frame_is_accepted()
    {
        byte[] frame = Raw.Frame(new byte[100]);
        ReadOnlySequence<byte> buffer = new(frame);
        Assert.Equal(FrameStatus.Complete, FrameReader.TryRead(ref buffer, 100, out ReadOnlySequence<byte> body));
        Assert.Equal(100, body.Length);
    }

    private static List<string> ReadClient(ReadOnlySequence<byte> buffer)
    {
        var decoded = new List<string>();
        // The samples include a 70 KB will: a server configured with a larger max_frame.
        while (FrameReader.TryRead(ref buffer, 1 << 20, out ReadOnlySequence<byte> body) == FrameStatus.Complete)
        {
            decoded.Add(Encoded.Describe(ClientRequestDecoder.Decode(body)));
        }
        Assert.True(buffer.IsEmpty);
        return decoded;
    }

    private static List<string> ReadServer(ReadOnlySequence<byte> buffer)
    {
        var decoded = new List<string>();
        while (FrameReader.TryRead(ref buffer, ProtocolConstants.MaxServerFrame, out ReadOnlySequence<byte> body) == FrameStatus.Complete)
        {
            decoded.Add(Encoded.Describe(ServerMessageDecoder.Decode(body)));
            if (ServerMessageDecoder.TryReadMessage(body, out MessageView view)) decoded.Add(Encoded.Describe(view));
        }
        Assert.True(buffer.IsEmpty);
        return decoded;
    }
}
