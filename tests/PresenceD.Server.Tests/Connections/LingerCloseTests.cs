using System.Buffers;
using System.Net;
using System.Net.Sockets;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Connections;

/// <summary>
/// A server close must reach a client that is still writing. The server's last frames may still sit in its
/// kernel send buffer (the client reads slower than it writes); a close with unread input, or input that arrives
/// after the close, makes the kernel answer with a reset that throws that buffer away, ERROR and GOAWAY included.
/// Each test repeats its close, because the loss is a race.
/// </summary>
public sealed class LingerCloseTests
{
    // A PUBLISH to a room not joined, rid 0: the server answers nothing, so writing it never fills our socket.
    private static readonly byte[] Junk = Frames(64, b => ClientFrames.Publish(b, 0, "nowhere", new byte[200]));
    private static readonly byte[] Pings = Frames(20_000, b => ClientFrames.Ping(b, 7));
    private static readonly byte[] BadFrame = [0, 0, 0, 4, 0x93, 0x04, 0x00, 0xc3]; // PUBLISH with a bool for a room

    [Fact]
    public async Task A_client_pipelining_writes_after_a_bad_frame_reads_error_then_goaway()
    {
        // With its log: a loss names the close the server logged for that connection (once seen on the epoll engine:
        // 877 pongs, then end of stream, no ERROR and no GOAWAY).
        await using TestServer server = TestServer.StartWithDiagnostics();
        var lost = new List<string>();
        const int Rounds = 20;
        for (int i = 0; i < Rounds; i++)
        {
            int logFrom = server.Log.Lines.Count;
            await using RawClient client = await RawClient.HelloAsync(server.EndPoint);
            (List<ServerMessage> frames, string end) = await client.WriteThenReadLateAsync([.. Pings, .. BadFrame], Junk);
            if (!EndsWith(frames, ErrorCode.Protocol, withError: true))
            {
                lost.Add(Describe(frames, end) + "; server log: " + string.Join(" | ", server.Log.Lines.Skip(logFrom).Where(l => l.Contains("closed", StringComparison.Ordinal) || l.Contains("error", StringComparison.OrdinalIgnoreCase))));
            }
        }
        Assert.True(lost.Count == 0, $"{lost.Count} of {Rounds} closes lost frames: {string.Join("; ", lost)}");
    }

    [Fact]
    public async Task A_client_writing_while_the_server_drains_reads_goaway_shutdown()
    {
        var lost = new List<string>();
        const int Rounds = 5;
        for (int i = 0; i < Rounds; i++)
        {
            await using TestServer server = TestServer.Start();
            await using RawClient client = await RawClient.HelloAsync(server.EndPoint);
            // The drain starts while the client writes: the 50 ms place the race, they wait for no event.
            Task drain = Task.Delay(50).ContinueWith(_ => server.Server.DrainAsync(TimeSpan.FromSeconds(5))).Unwrap();
            (List<ServerMessage> frames, string end) = await client.WriteThenReadLateAsync(Pings, Junk);
            await client.DisposeAsync(); // the drain waits for the lingering socket until the client closes
            await drain;
            if (!EndsWith(frames, ErrorCode.Shutdown, withError: false)) lost.Add(Describe(frames, end));
        }
        Assert.True(lost.Count == 0, $"{lost.Count} of {Rounds} drains lost the GOAWAY: {string.Join("; ", lost)}");
    }

    [Fact]
    public async Task A_slow_consumer_that_keeps_writing_reads_goaway_slow_consumer()
    {
        await using TestServer server = TestServer.Start(o => o.SendQueueLimit = 64 * 1024);
        var lost = new List<string>();
        const int Rounds = 5;
        for (int i = 0; i < Rounds; i++)
        {
            await using RawClient client = await RawClient.HelloAsync(server.EndPoint);
            // Pings only: their pongs pile up unread until the queue passes send_queue_limit.
            (List<ServerMessage> frames, string end) = await client.WriteThenReadLateAsync(Pings, Pings, TimeSpan.FromMilliseconds(400));
            if (!EndsWith(frames, ErrorCode.SlowConsumer, withError: false)) lost.Add(Describe(frames, end));
        }
        Assert.True(lost.Count == 0, $"{lost.Count} of {Rounds} slow consumers lost the GOAWAY: {string.Join("; ", lost)}");
    }

    [Fact]
    public async Task A_client_writing_to_a_full_server_reads_goaway_limit()
    {
        await using TestServer server = TestServer.Start(o => o.MaxConnections = 1);
        await using TestClient holder = await server.HelloAsync("holder");
        byte[] hello = Frames(1, b => ClientFrames.Hello(b, 1, "late", null));
        var lost = new List<string>();
        const int Rounds = 20;
        for (int i = 0; i < Rounds; i++)
        {
            await using RawClient client = await RawClient.ConnectAsync(server.EndPoint);
            (List<ServerMessage> frames, string end) = await client.WriteThenReadLateAsync(hello, Junk);
            if (frames is not [GoAwayMessage { Code: ErrorCode.Limit }]) lost.Add(Describe(frames, end));
        }
        Assert.True(lost.Count == 0, $"{lost.Count} of {Rounds} refusals lost their GOAWAY: {string.Join("; ", lost)}");
    }

    [Fact]
    public async Task A_client_that_never_stops_writing_is_cut_after_close_linger_and_its_close_counts_at_once()
    {
        await using TestServer server = TestServer.Start(o => o.CloseLinger = TimeSpan.FromMilliseconds(300));
        var registry = server.Server.Connections.Registry;
        await using RawClient client = await RawClient.HelloAsync(server.EndPoint);
        using var stop = new CancellationTokenSource();
        await client.SendRawAsync(BadFrame);
        Task writer = client.KeepWritingAsync(Junk, stop.Token);
        (List<ServerMessage> frames, string end) = await client.ReadToEndAsync();
        long endOfStream = Environment.TickCount64;
        Assert.True(EndsWith(frames, ErrorCode.Protocol, withError: true), Describe(frames, end));
        Assert.Equal("end of stream", end); // the sending side was shut after the GOAWAY: no reset
        // Closed for the client: counted, and its place free, while the socket still drains what it writes.
        Assert.Equal(1, server.Server.Connections.Counters.Closes(PresenceD.Server.Connections.CloseReason.ProtocolError));
        Assert.Equal(0, registry.Count);
        Assert.Equal(1, registry.Live);
        await Eventually.TrueAsync(() => registry.Live == 0, "the lingering socket cut", TimeSpan.FromSeconds(5));
        Assert.InRange(Environment.TickCount64 - endOfStream, 150, 3000);
        await stop.CancelAsync();
        await writer;
    }

    [Fact]
    public async Task A_lingering_close_ends_as_soon_as_the_client_closes()
    {
        await using TestServer server = TestServer.Start(o => o.CloseLinger = TimeSpan.FromSeconds(30));
        var registry = server.Server.Connections.Registry;
        RawClient client = await RawClient.HelloAsync(server.EndPoint);
        await client.SendRawAsync(BadFrame);
        (List<ServerMessage> frames, string end) = await client.ReadToEndAsync();
        Assert.True(EndsWith(frames, ErrorCode.Protocol, withError: true), Describe(frames, end));
        Assert.Equal(1, registry.Live);
        await client.DisposeAsync();
        await Eventually.TrueAsync(() => registry.Live == 0, "the socket closed at the client's end of stream, long before close_linger", TimeSpan.FromSeconds(5));
    }

    private static bool EndsWith(List<ServerMessage> frames, ErrorCode code, bool withError) => withError
        ? frames is [.., ErrorMessage { Rid: 0 } error, GoAwayMessage goAway] && error.Code == code && goAway.Code == code
        : frames is [.., GoAwayMessage goAway2] && goAway2.Code == code;

    private static byte[] Frames(int count, Action<FrameBuffer> write)
    {
        using var buffer = new FrameBuffer();
        for (int i = 0; i < count; i++) write(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static string Describe(List<ServerMessage> frames, string end)
    {
        IEnumerable<string> last = frames.TakeLast(3).Select(f => f is GoAwayMessage g ? $"GOAWAY {g.Code}" : f is ErrorMessage e ? $"ERROR {e.Code}" : f.Op.ToString());
        return $"{frames.Count} frames ending [{string.Join(", ", last)}], then {end}";
    }

    /// <summary>
    /// A client with a small receive buffer that writes first and reads late, as a pipelining client under load
    /// does: the server's replies back up in its send buffer while the client is still writing.
    /// </summary>
    private sealed class RawClient : IAsyncDisposable
    {
        private readonly Socket _socket;

        private RawClient(Socket socket) => _socket = socket;

        public static async Task<RawClient> ConnectAsync(IPEndPoint server)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
            await socket.ConnectAsync(server);
            return new RawClient(socket);
        }

        public static async Task<RawClient> HelloAsync(IPEndPoint server)
        {
            RawClient client = await ConnectAsync(server);
            await client.SendAsync(Frames(1, b => ClientFrames.Hello(b, 1, "piper", null)));
            byte[] welcome = new byte[256];
            int n = await client._socket.ReceiveAsync(welcome, SocketFlags.None);
            Assert.IsType<WelcomeMessage>(ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(welcome, 4, n - 4)));
            return client;
        }

        /// <summary>Sends <paramref name="first"/>, keeps sending <paramref name="more"/>, starts reading after <paramref name="readAfter"/>, reads to the end.</summary>
        public async Task<(List<ServerMessage> Frames, string End)> WriteThenReadLateAsync(byte[] first, byte[] more, TimeSpan? readAfter = null)
        {
            using var stop = new CancellationTokenSource();
            Task writer = Task.Run(async () =>
            {
                try
                {
                    await SendAsync(first);
                    while (!stop.IsCancellationRequested)
                    {
                        await SendAsync(more);
                        await Task.Yield();
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            });
            await Task.Delay(readAfter ?? TimeSpan.FromMilliseconds(100)); // reading late is the test: the server's last frames wait in its send buffer
            (List<ServerMessage> frames, string end) = await ReadToEndAsync();
            await stop.CancelAsync();
            await writer;
            return (frames, end);
        }

        public Task SendRawAsync(byte[] bytes) => SendAsync(bytes);

        /// <summary>Writes <paramref name="bytes"/> over and over until cancelled or the socket fails.</summary>
        public async Task KeepWritingAsync(byte[] bytes, CancellationToken stop)
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await SendAsync(bytes);
                    await Task.Delay(1, stop);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
            }
        }

        private async Task SendAsync(ReadOnlyMemory<byte> bytes)
        {
            while (!bytes.IsEmpty) bytes = bytes[await _socket.SendAsync(bytes, SocketFlags.None)..];
        }

        public async Task<(List<ServerMessage>, string)> ReadToEndAsync()
        {
            var frames = new List<ServerMessage>();
            var pending = new ArrayBufferWriter<byte>();
            byte[] chunk = new byte[64 * 1024];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                int n;
                try
                {
                    n = await _socket.ReceiveAsync(chunk, SocketFlags.None, timeout.Token);
                }
                catch (SocketException e)
                {
                    return (frames, e.SocketErrorCode.ToString());
                }
                catch (OperationCanceledException)
                {
                    return (frames, "no close within 10 s");
                }
                if (n == 0) return (frames, "end of stream");
                pending.Write(chunk.AsSpan(0, n));
                var buffer = new ReadOnlySequence<byte>(pending.WrittenMemory);
                while (FrameReader.TryRead(ref buffer, ProtocolConstants.MaxServerFrame, out ReadOnlySequence<byte> body) == FrameStatus.Complete)
                {
                    frames.Add(ServerMessageDecoder.Decode(body));
                }
                byte[] rest = buffer.ToArray();
                pending.Clear();
                pending.Write(rest);
            }
        }

        public ValueTask DisposeAsync()
        {
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
