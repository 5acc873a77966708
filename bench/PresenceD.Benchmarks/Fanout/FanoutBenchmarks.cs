using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Hosting;
using PresenceD.Server.Rooms;

namespace PresenceD.Benchmarks.Fanout;

/// <summary>
/// One message to a room of N local members: encode the MESSAGE frame once, then copy it into every
/// member's outbound queue (the real RoomFanout and OutboundQueue; no sockets, so nothing is sent:
/// queues are emptied between iterations). Target: 0 B allocated per fan-out.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(64)]
public class FanoutBenchmarks
{
    private readonly byte[] _payload = new byte[64];
    private readonly List<Connection> _connections = [];
    private PresenceServer _server = null!;
    private Room _room = null!;
    private SendBatch _batch = null!;
    private RoomMember _publisher = null!;
    private System.Buffers.ReadOnlySequence<byte> _publishPayload;

    [Params(10, 1_000)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new ServerOptions { SendQueueLimit = 64L * 1024 * 1024 };
        _server = new PresenceServer(options, NullLoggerFactory.Instance);
        for (int i = 0; i < Members; i++)
        {
            var connection = new Connection(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), _server.Connections, i, null);
            var member = new RoomMember(connection, "user" + i, _server.ConnIds.Next()) { Visible = true };
            _room = _server.Rooms.Place("bench", member);
            _connections.Add(connection);
            _publisher = member;
        }
        _publishPayload = new System.Buffers.ReadOnlySequence<byte>(_payload);
        _batch = SendBatch.Open();
    }

    [IterationCleanup]
    public void Drain()
    {
        _batch.Forget();
        foreach (Connection connection in _connections) connection.Outbound.DiscardPending();
    }

    [Benchmark(Description = "encode once + enqueue to every member")]
    public int EncodeAndEnqueue()
    {
        FrameBuffer frame = _batch.NewFrame();
        ServerFrames.Message(frame, "bench", "publisher", "n0-1", _payload, 0);
        return RoomFanout.Deliver(_room, frame.WrittenSpan, except: null, _batch);
    }

    /// <summary>
    /// The whole PUBLISH path of a room without history (Room.Publish: encode, fan out, hand to the broker), which
    /// passes the hand-over's publish gate (Room.HandOver.cs) with two interlocked operations and no lock.
    /// </summary>
    [Benchmark(Description = "Room.Publish (no history): gate + encode + enqueue to every other member")]
    public bool PublishToRoom() => _room.Publish(_publisher, _publishPayload, _batch);

    [GlobalCleanup]
    public async Task Cleanup() => await _server.DisposeAsync();
}
