using System.Buffers;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Protocol.Tests.Messages;
using PresenceD.Protocol.Tests.TestSupport;

namespace PresenceD.Protocol.Tests.Fuzz;

/// <summary>
/// Randomly mutated valid frames (fixed seeds, so a failure reproduces): the codec either decodes them or
/// throws <see cref="ProtocolException"/>, never anything else, and never hangs or overruns.
/// </summary>
public sealed class MutationFuzzTests
{
    private const int Iterations = 4000;
    private static readonly byte[] Interesting = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xc9, 0xca, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];

    [Fact]
    public void Mutated_client_frames_decode_or_throw_ProtocolException()
    {
        byte[][] bodies = SampleFrames.Client.Where(s => s.Frame.Length < 4096).Select(s => Encoded.BodyOf(s.Frame)).ToArray();
        var random = new Random(1234);
        for (int i = 0; i < Iterations; i++)
        {
            byte[] mutated = Mutate(bodies[random.Next(bodies.Length)], random);
            MalformedInputTests.AssertRejectedOrDecoded(() => DecodeClient(mutated, random), $"client #{i} {Convert.ToHexString(mutated)}");
        }
    }

    [Fact]
    public void Mutated_server_frames_decode_or_throw_ProtocolException()
    {
        byte[][] bodies = SampleFrames.Server.Where(s => s.Frame.Length < 4096).Select(s => Encoded.BodyOf(s.Frame)).ToArray();
        var random = new Random(5678);
        for (int i = 0; i < Iterations; i++)
        {
            byte[] mutated = Mutate(bodies[random.Next(bodies.Length)], random);
            var body = new ReadOnlySequence<byte>(mutated);
            string what = $"server #{i} {Convert.ToHexString(mutated)}";
            MalformedInputTests.AssertRejectedOrDecoded(() => ServerMessageDecoder.Decode(body), what);
            MalformedInputTests.AssertRejectedOrDecoded(() => ServerMessageDecoder.TryReadMessage(body, out _), what);
            MalformedInputTests.AssertRejectedOrDecoded(() => ServerMessageDecoder.PeekOp(body), what);
            MalformedInputTests.AssertRejectedOrDecoded(() => ClientRequestDecoder.Decode(body), what);
        }
    }

    [Fact]
    public void Mutated_byte_streams_frame_or_throw_ProtocolException()
    {
        byte[] stream = Sequences.Concat(SampleFrames.Client.Where(s => s.Frame.Length < 4096).Select(s => s.Frame).ToArray());
        var random = new Random(91011);
        for (int i = 0; i < Iterations / 4; i++)
        {
            byte[] mutated = Mutate(stream, random);
            ReadOnlySequence<byte> buffer = Sequences.RandomSplit(mutated, random);
            MalformedInputTests.AssertRejectedOrDecoded(() =>
            {
                while (FrameReader.TryRead(ref buffer, ProtocolConstants.DefaultMaxFrame, out ReadOnlySequence<byte> body) == FrameStatus.Complete)
                {
                    try
                    {
                        ClientRequestDecoder.Decode(body);
                    }
                    catch (ProtocolException)
                    {
                        // A bad body ends that frame only; keep framing the rest of the stream.
                    }
                }
            }, $"stream #{i}");
        }
    }

    private static void DecodeClient(byte[] bytes, Random random)
    {
        ReadOnlySequence<byte> body = random.Next(4) == 0 ? Sequences.RandomSplit(bytes, random) : new ReadOnlySequence<byte>(bytes);
        ClientRequest request = ClientRequestDecoder.Decode(body);
        foreach (ReadOnlySequence<byte> user in request.EnumerateUsers()) NameRules.Check(user, 128);
        NameRules.Check(request.Room, 128);
        NameRules.Check(request.SinceEpoch, 1 << 20);
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        int mutations = 1 + random.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            int at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(8))
            {
                case 0 when bytes.Count > 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1 when bytes.Count > 0: bytes[at] = (byte)random.Next(256); break;
                case 2 when bytes.Count > 0: bytes[at] = Interesting[random.Next(Interesting.Length)]; break;
                case 3: bytes.Insert(at, Interesting[random.Next(Interesting.Length)]); break;
                case 4 when bytes.Count > 0: bytes.RemoveAt(at); break;
                case 5: bytes.RemoveRange(at, bytes.Count - at); break;
                case 6 when bytes.Count > 0:
                    int length = random.Next(1, Math.Min(16, bytes.Count - at) + 1);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                default:
                    for (int k = at; k < Math.Min(at + 4, bytes.Count); k++) bytes[k] = 0xff;
                    break;
            }
        }
        return [.. bytes];
    }
}
