using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Expiry;
using PresenceD.Server.Fanout;
using PresenceD.Server.Hosting;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Benchmarks.Fanout;

/// <summary>
/// One message to a room of N local members: encode the MESSAGE frame once, then copy it into every
/// member's outbound queue (the real RoomBroadcaster and OutboundQueue; no sockets, so nothing is sent:
/// queues are emptied between iterations). Target: 0 B allocated per fan-out.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(64)]
public class FanoutBenchmarks
{
    private readonly byte[] _payload = new byte[64];
    private readonly List<Connection> _connections = [];
    private ServerContext _server = null!;
    private Room<RoomMember> _room = null!;

    [Params(1_000)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new ServerOptions { SendQueueLimit = 64L * 1024 * 1024 };
        _server = new ServerContext(options, NullLoggerFactory.Instance, SystemClock.Instance);
        for (int i = 0; i < Members; i++)
        {
            var connection = new Connection(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), _server, i, null);
            connection.Session.User = "user" + i;
            connection.Session.ConnId = _server.NextConnId();
            var member = new RoomMember(connection.Session) { Visible = true };
            _room = _server.Hub.Index.Join("bench", member, out int slot);
            member.Room = _room;
            member.Slot = slot;
            _connections.Add(connection);
        }
    }

    [IterationCleanup]
    public void Drain()
    {
        FlushBatch.Current.Forget();
        foreach (Connection connection in _connections) connection.Outbound.DiscardPending();
    }

    [Benchmark(Description = "encode once + enqueue to every member")]
    public int EncodeAndEnqueue()
    {
        FrameBuffer frame = RoomBroadcaster.Scratch;
        ServerFrames.Message(frame, "bench", "publisher", "n0-1", _payload, 0);
        return RoomBroadcaster.Deliver(_room, frame.WrittenSpan, except: null);
    }

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();
}
