using System.Buffers;
using BenchmarkDotNet.Attributes;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;

namespace PresenceD.Benchmarks.Protocol;

/// <summary>
/// Encode into a reused <see cref="FrameBuffer"/> and decode from a pre-encoded body, per op. The hot ones
/// (PUBLISH in, MESSAGE out) must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class FrameCodecBenchmarks
{
    private const string Room = "game:lobby-42";
    private const string User = "user-123456";
    private const string Conn = "n1-c-0000000042";
    private readonly byte[] _payload = new byte[64];
    private readonly byte[] _meta = new byte[32];
    private readonly FrameBuffer _buffer = new();
    private ReadOnlySequence<byte> _joinBody;
    private ReadOnlySequence<byte> _publishBody;
    private ReadOnlySequence<byte> _messageBody;

    [GlobalSetup]
    public void Setup()
    {
        new Random(42).NextBytes(_payload);
        _joinBody = Body(b => ClientFrames.Join(b, 7, Room, _meta, true, "epoch-1", 1234, default, false));
        _publishBody = Body(b => ClientFrames.Publish(b, 8, Room, _payload));
        _messageBody = Body(b => ServerFrames.Message(b, Room, User, Conn, _payload, 1234));
    }

    [GlobalCleanup]
    public void Cleanup() => _buffer.Dispose();

    [Benchmark]
    public int EncodeJoin()
    {
        _buffer.Clear();
        ClientFrames.Join(_buffer, 7, Room, _meta, true, "epoch-1", 1234, default, false);
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public int EncodePublish()
    {
        _buffer.Clear();
        ClientFrames.Publish(_buffer, 8, Room, _payload);
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public int EncodeMessage()
    {
        _buffer.Clear();
        ServerFrames.Message(_buffer, Room, User, Conn, _payload, 1234);
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public long DecodeJoin()
    {
        ClientRequest request = ClientRequestDecoder.Decode(_joinBody);
        return request.Room.Length + request.Meta.Length + (long)request.SinceOffset;
    }

    [Benchmark]
    public long DecodePublish()
    {
        ClientRequest request = ClientRequestDecoder.Decode(_publishBody);
        return request.Room.Length + request.Payload.Length;
    }

    [Benchmark]
    public long DecodeMessage()
    {
        ServerMessageDecoder.TryReadMessage(_messageBody, out MessageView message);
        return message.Payload.Length + (long)message.Offset;
    }

    private static ReadOnlySequence<byte> Body(Action<FrameBuffer> encode)
    {
        using var buffer = new FrameBuffer();
        encode(buffer);
        var frame = new ReadOnlySequence<byte>(buffer.WrittenSpan.ToArray());
        if (FrameReader.TryRead(ref frame, ProtocolConstants.MaxServerFrame, out ReadOnlySequence<byte> body) != FrameStatus.Complete)
        {
            throw new InvalidOperationException("the encoder wrote no whole frame");
        }
        return body;
    }
}
