using System.Buffers;
using System.Net;
using System.Net.Sockets;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;

namespace PresenceD.Server.Tests.Support;

/// <summary>
/// A raw protocol client over a real socket: sends frames built with the protocol encoders and reads
/// server frames one at a time, with a timeout on every read so a missing frame fails the test.
/// </summary>
internal sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly byte[] _receive = new byte[1 << 20];
    private int _start;
    private int _end;

    private TestClient(Socket socket) => _socket = socket;

    public WelcomeMessage? Welcome { get; private set; }

    public string Conn => Welcome?.Conn ?? throw new InvalidOperationException("no WELCOME yet");

    public static async Task<TestClient> ConnectAsync(IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server);
        return new TestClient(socket);
    }

    /// <summary>Connects and completes HELLO as <paramref name="user"/>.</summary>
    public static async Task<TestClient> HelloAsync(IPEndPoint server, string user, uint rid = 1)
    {
        TestClient client = await ConnectAsync(server);
        await client.SendAsync(b => ClientFrames.Hello(b, rid, user, "tests"));
        client.Welcome = await client.ExpectAsync<WelcomeMessage>();
        return client;
    }

    public async Task SendAsync(Action<FrameBuffer> write)
    {
        using var buffer = new FrameBuffer();
        write(buffer);
        await SendRawAsync(buffer.WrittenMemory);
    }

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty) bytes = bytes[await _socket.SendAsync(bytes, SocketFlags.None)..];
    }

    /// <summary>Sends a frame whose body is <paramref name="body"/> (length prefix added).</summary>
    public Task SendBodyAsync(byte[] body)
    {
        var frame = new byte[4 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        body.CopyTo(frame, 4);
        return SendRawAsync(frame);
    }

    /// <summary>The next server frame, or null when the server closed the connection.</summary>
    public async Task<ServerMessage?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            var buffer = new ReadOnlySequence<byte>(_receive, _start, _end - _start);
            if (FrameReader.TryRead(ref buffer, ProtocolConstants.MaxServerFrame, out ReadOnlySequence<byte> body) == FrameStatus.Complete)
            {
                ServerMessage message = ServerMessageDecoder.Decode(body);
                _start = _end - (int)buffer.Length;
                return message;
            }
            if (_start > 0)
            {
                Array.Copy(_receive, _start, _receive, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int n;
            try
            {
                n = await _socket.ReceiveAsync(_receive.AsMemory(_end), SocketFlags.None, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("no frame from the server in time");
            }
            catch (SocketException)
            {
                return null;
            }
            if (n == 0) return null;
            _end += n;
        }
    }

    /// <summary>The next frame, which must be a <typeparamref name="T"/>.</summary>
    public async Task<T> ExpectAsync<T>(TimeSpan? timeout = null) where T : ServerMessage
    {
        ServerMessage? message = await ReceiveAsync(timeout);
        return message as T ?? throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name}, got {message?.ToString() ?? "connection closed"}");
    }

    /// <summary>True when nothing arrives within <paramref name="quiet"/> (used sparingly: proves an absence).</summary>
    public async Task<bool> NothingWithinAsync(TimeSpan quiet)
    {
        try
        {
            ServerMessage? message = await ReceiveAsync(quiet);
            return message is null;
        }
        catch (TimeoutException)
        {
            return true;
        }
    }

    /// <summary>Reads until the server closes; returns what it sent before.</summary>
    public async Task<List<ServerMessage>> ReadUntilClosedAsync(TimeSpan? timeout = null)
    {
        var messages = new List<ServerMessage>();
        while (await ReceiveAsync(timeout) is { } message) messages.Add(message);
        return messages;
    }

    public void Abort()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
