using System.Buffers;
using System.Net;
using System.Net.Sockets;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;

namespace PresenceD.Cluster.Tests.Support;

/// <summary>
/// A raw protocol client over a real socket (after tests/PresenceD.Server.Tests/Support/TestClient.cs).
/// Unlike that one it keeps itself alive: it sends PING (rid 0) every <see cref="PingEvery"/> and drops
/// the PONGs, because the cluster tests run with a short heartbeat_timeout (presence expiry follows it).
/// </summary>
internal sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PingEvery = TimeSpan.FromMilliseconds(700);

    private readonly Socket _socket;
    private readonly byte[] _receive = new byte[1 << 20];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private int _start;
    private int _end;

    private TestClient(Socket socket)
    {
        _socket = socket;
        _ = PingLoopAsync();
    }

    public WelcomeMessage? Welcome { get; private set; }

    public string Conn => Welcome?.Conn ?? throw new InvalidOperationException("no WELCOME yet");

    public static async Task<TestClient> HelloAsync(IPEndPoint server, string user, uint rid = 1)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server);
        var client = new TestClient(socket);
        await client.SendAsync(b => ClientFrames.Hello(b, rid, user, "cluster-tests"));
        client.Welcome = await client.ExpectAsync<WelcomeMessage>();
        return client;
    }

    public async Task SendAsync(Action<FrameBuffer> write)
    {
        using var buffer = new FrameBuffer();
        write(buffer);
        await _sendLock.WaitAsync();
        try
        {
            ReadOnlyMemory<byte> bytes = buffer.WrittenMemory;
            while (!bytes.IsEmpty) bytes = bytes[await _socket.SendAsync(bytes, SocketFlags.None)..];
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>The next server frame that is not a PONG, or null when the server closed the connection.</summary>
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
                if (message is PongMessage { Rid: 0 }) continue;
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

    public async Task<T> ExpectAsync<T>(TimeSpan? timeout = null) where T : ServerMessage
    {
        ServerMessage? message = await ReceiveAsync(timeout);
        string got = message switch
        {
            null => "connection closed",
            PresenceDiffMessage d => $"PRESENCE_DIFF joins [{string.Join(",", d.Joins.Select(m => m.Conn))}] leaves [{string.Join(",", d.Leaves.Select(m => m.Conn))}]",
            _ => message.ToString()!,
        };
        return message as T ?? throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name}, got {got}");
    }

    /// <summary>True when nothing (but PONGs) arrives within <paramref name="quiet"/>.</summary>
    public async Task<bool> NothingWithinAsync(TimeSpan quiet)
    {
        try
        {
            return await ReceiveAsync(quiet) is null;
        }
        catch (TimeoutException)
        {
            return true;
        }
    }

    /// <summary>Every frame that arrives until <paramref name="quiet"/> passes without one.</summary>
    public async Task<List<ServerMessage>> DrainAsync(TimeSpan quiet)
    {
        var messages = new List<ServerMessage>();
        while (true)
        {
            try
            {
                if (await ReceiveAsync(quiet) is not { } message) return messages;
                messages.Add(message);
            }
            catch (TimeoutException)
            {
                return messages;
            }
        }
    }

    /// <summary>Stops pinging, so the server times the connection out.</summary>
    public Task StopPingingAsync() => _stop.CancelAsync();

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task PingLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(PingEvery, _stop.Token);
                await SendAsync(b => ClientFrames.Ping(b, 0));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }
}
