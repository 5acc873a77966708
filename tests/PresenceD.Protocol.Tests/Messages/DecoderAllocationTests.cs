using System.Buffers;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Protocol.Tests.TestSupport;
using PresenceD.Tests.Shared;

namespace PresenceD.Protocol.Tests.Messages;

/// <summary>
/// The server's decode path allocates nothing, and no decoder allocates in proportion to a declared length.
/// Measured with the current thread's exact allocation counter (<see cref="Allocations"/>).
/// </summary>
public sealed class DecoderAllocationTests
{
    private const long ExceptionBudget = 8 * 1024;

    [Fact]
    public void Decoding_client_frames_allocates_nothing()
    {
        foreach ((string name, byte[] frame) in SampleFrames.Client)
        {
            var single = new ReadOnlySequence<byte>(frame);
            ReadOnlySequence<byte> split = Sequences.RandomSplit(frame, new Random(7));
            Assert.True(Measure(() => DecodeAll(single)) == 0, $"{name} allocated");
            Assert.True(Measure(() => DecodeAll(split)) == 0, $"{name} (segmented) allocated");
        }
    }

    [Fact]
    public void Reading_a_MESSAGE_view_allocates_nothing()
    {
        byte[] body = Encoded.Body(b => ServerFrames.Message(b, "lobby", "alice", "c-1", Encoded.Pattern(64), 9));
        var sequence = new ReadOnlySequence<byte>(body);
        Assert.Equal(0, Measure(() => ServerMessageDecoder.TryReadMessage(sequence, out _)));
    }

    [Fact]
    public void Encoding_PUBLISH_and_MESSAGE_into_a_reused_buffer_allocates_nothing()
    {
        using var buffer = new FrameBuffer();
        byte[] payload = Encoded.Pattern(64);
        Assert.Equal(0, Measure(() =>
        {
            buffer.Clear();
            ClientFrames.Publish(buffer, 1, "lobby", payload);
            ServerFrames.Message(buffer, "lobby", "alice", "c-1", payload, 1);
            ClientFrames.Join(buffer, 2, "lobby", payload, true, "epoch", 5, payload, true);
        }));
    }

    [Theory]
    [InlineData("client", "dd05f5e100", 10)] // an array of 100 M elements
    [InlineData("client", "9403 01 a172 c605f5e100", 10)] // a 100 MB bin
    [InlineData("client", "9303 01 db05f5e100", 10)] // a 100 MB str
    [InlineData("client", "930a01 dd05f5e100", 10)] // 100 M users
    [InlineData("client", "930801 df05f5e100", 10)] // a trailing map of 100 M pairs
    [InlineData("server", "954401a172 dd05f5e100", 10)] // 100 M members
    [InlineData("server", "934a01 dd05f5e100", 10)]
    [InlineData("server", "dd05f5e100", 10)]
    public void A_hostile_declared_length_costs_nothing(string side, string hex, int padding)
    {
        byte[] body = [.. Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal)), .. new byte[padding]];
        long allocated = MeasureRejected(body, side == "client");
        Assert.True(allocated < ExceptionBudget, $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_count_as_large_as_the_frame_does_not_presize_lists()
    {
        // Counts pass the one-byte-per-element check; the elements then turn out not to be members / strings.
        byte[] members = [.. Convert.FromHexString("954401a172dd000f4240"), .. new byte[1_000_000]];
        Assert.True(MeasureRejected(members, client: false) < ExceptionBudget + 4096);
        byte[] online = [.. Convert.FromHexString("934a01dd000f4240"), .. new byte[1_000_000]];
        Assert.True(MeasureRejected(online, client: false) < ExceptionBudget + 4096);
    }

    private static void DecodeAll(ReadOnlySequence<byte> buffer)
    {
        FrameReader.TryRead(ref buffer, 1 << 20, out ReadOnlySequence<byte> body);
        ClientRequest request = ClientRequestDecoder.Decode(body);
        foreach (ReadOnlySequence<byte> user in request.EnumerateUsers()) NameRules.Check(user, 128);
        if (!request.Room.IsEmpty) NameRules.Check(request.Room, 128);
    }

    private static long MeasureRejected(byte[] bytes, bool client)
    {
        var body = new ReadOnlySequence<byte>(bytes);
        return Measure(() =>
        {
            try
            {
                if (client) ClientRequestDecoder.Decode(body);
                else ServerMessageDecoder.Decode(body);
            }
            catch (ProtocolException)
            {
                return;
            }
            Assert.Fail("accepted");
        });
    }

    private static long Measure(Action action) => Allocations.Least(action);
}
