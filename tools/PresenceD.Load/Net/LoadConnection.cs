using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using PresenceD.Client.Internal;
using PresenceD.Load.Measurement;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;

namespace PresenceD.Load.Net;

/// <summary>
/// One raw load connection speaking the protocol through the shared codec: a receive loop that counts MESSAGE
/// deliveries and their latency without allocating, and a locked output buffer that callers fill and
/// <see cref="Flush"/> (so a publisher can send a whole window with one system call; over TLS, one TLS write).
/// </summary>
internal sealed class LoadConnection
{
    private const int SolIp = 0;
    private const int IpBindAddressNoPort = 24;

    private readonly Socket _socket;
    private readonly SslStream? _tls; // --tls; null: the socket is read and written directly
    private readonly LoadStats _stats;
    private readonly FrameBuffer _out = new(256);
    private readonly TaskCompletionSource<WelcomeMessage> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<ErrorCode>? _reply;
    private uint _replyRid;
    private volatile bool _closing;
    private volatile bool _byeSent;
    private long _lastSendTimestamp;

    private LoadConnection(Socket socket, SslStream? tls, LoadStats stats)
    {
        _socket = socket;
        _tls = tls;
        _stats = stats;
        _lastSendTimestamp = Stopwatch.GetTimestamp();
    }

    public WelcomeMessage? Welcome { get; private set; }

    public string Room { get; set; } = "";

    /// <summary>Members of <see cref="Room"/> other than this connection: the deliveries one publish here should make.</summary>
    public int Fanout { get; set; }

    public bool IsOpen => !_closing;

    public long LastSendTimestamp => Volatile.Read(ref _lastSendTimestamp);

    /// <summary>Connects (from <paramref name="source"/> when given), runs the TLS handshake when <paramref name="tls"/> is given, and completes HELLO as <paramref name="user"/>.</summary>
    public static async Task<LoadConnection> OpenAsync(IPEndPoint server, IPAddress? source, string user, LoadStats stats, TlsHandshake? tls, CancellationToken cancellation)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SslStream? stream;
        try
        {
            if (source is not null)
            {
                // Let connect() pick the port per destination, so each source address gets the whole ephemeral range.
                if (OperatingSystem.IsLinux()) socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                socket.Bind(new IPEndPoint(source, 0));
            }
            await socket.ConnectAsync(server, cancellation);
            stream = tls is null ? null : await tls.AuthenticateAsync(socket, server.ToString(), TimeSpan.FromSeconds(15), cancellation);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new LoadConnection(socket, stream, stats);
        stats.AddOpened();
        _ = connection.ReceiveLoopAsync();
        lock (connection._out) ClientFrames.Hello(connection._out, 1, user, "presence-load");
        connection.Flush();
        try
        {
            connection.Welcome = await connection._welcome.Task.WaitAsync(TimeSpan.FromSeconds(15), cancellation);
            return connection;
        }
        catch
        {
            connection.Close(bye: false);
            throw;
        }
    }

    public void Join(string room, uint rid)
    {
        lock (_out) ClientFrames.Join(_out, rid, room);
    }

    public void Leave(string room, uint rid)
    {
        lock (_out) ClientFrames.Leave(_out, rid, room);
    }

    public void Publish(string room, ReadOnlySpan<byte> payload)
    {
        lock (_out) ClientFrames.Publish(_out, 0, room, payload);
    }

    public void Ping()
    {
        lock (_out) ClientFrames.Ping(_out, 0);
        Flush();
    }

    /// <summary>Sends one request and waits for its reply (JOINED/OK/ERROR with the same rid); returns the error code.</summary>
    public async Task<ErrorCode> RequestAsync(Action<LoadConnection, uint> write, uint rid, TimeSpan timeout)
    {
        var reply = new TaskCompletionSource<ErrorCode>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _replyRid, rid);
        Volatile.Write(ref _reply, reply);
        write(this, rid);
        Flush();
        return await reply.Task.WaitAsync(timeout);
    }

    public void Flush()
    {
        lock (_out)
        {
            if (_out.WrittenCount == 0 || _closing) return;
            try
            {
                ReadOnlySpan<byte> data = _out.WrittenSpan;
                if (_tls is not null) _tls.Write(data);
                else for (int sent = 0; sent < data.Length;) sent += _socket.Send(data[sent..]);
                Volatile.Write(ref _lastSendTimestamp, Stopwatch.GetTimestamp());
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                if (!_closing) _stats.Error("send: " + Describe(e));
                _closing = true;
            }
            finally
            {
                _out.Clear();
            }
        }
    }

    /// <summary>With <paramref name="bye"/>, says BYE and lets the server close first; else resets at once (no TIME_WAIT).</summary>
    public void Close(bool bye)
    {
        if (bye && !_closing)
        {
            _byeSent = true;
            lock (_out) ClientFrames.Bye(_out);
            Flush();
        }
        _closing = true;
        try
        {
            if (!bye) _socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
        _tls?.Dispose();
        _socket.Dispose();
        lock (_out) _out.Release();
    }

    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4 * 1024);
        int filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length) buffer = Grow(buffer, filled);
                int read = _tls is null
                    ? await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None)
                    : await _tls.ReadAsync(buffer.AsMemory(filled));
                if (read == 0)
                {
                    if (!_closing && !_byeSent)
                    {
                        _stats.AddClosedByServer();
                        _stats.Error("closed by server");
                    }
                    break;
                }
                filled += read;
                long now = Stopwatch.GetTimestamp();
                LatencyHistogram histogram = _stats.Latency.ForThisThread;
                int delivered = 0, diffs = 0, pongs = 0;
                var unread = new ReadOnlySequence<byte>(buffer, 0, filled);
                while (FrameReader.TryRead(ref unread, ProtocolConstants.MaxServerFrame, out ReadOnlySequence<byte> body) == FrameStatus.Complete)
                {
                    if (ServerMessageDecoder.TryReadMessage(body, out MessageView message))
                    {
                        delivered++;
                        RecordLatency(message.Payload, now, histogram);
                        continue;
                    }
                    OnControlFrame(body, ref diffs, ref pongs);
                }
                if (delivered > 0) _stats.AddDelivered(delivered);
                if (diffs > 0) _stats.AddDiffs(diffs);
                if (pongs > 0) _stats.AddPongs(pongs);
                int left = (int)unread.Length;
                if (left > 0 && left != filled) Buffer.BlockCopy(buffer, filled - left, buffer, 0, left);
                filled = left;
            }
        }
        catch (Exception e) when (!_closing && !_byeSent)
        {
            _stats.Error("receive: " + Describe(e));
        }
        catch (Exception)
        {
            // Closing: the socket was disposed under the pending receive.
        }
        finally
        {
            _closing = true;
            ArrayPool<byte>.Shared.Return(buffer);
            _welcome.TrySetException(new IOException("the connection closed before WELCOME"));
            Volatile.Read(ref _reply)?.TrySetException(new IOException("the connection closed before the reply"));
        }
    }

    private void OnControlFrame(in ReadOnlySequence<byte> body, ref int diffs, ref int pongs)
    {
        OpCode op = ServerMessageDecoder.PeekOp(body);
        switch (op)
        {
            case OpCode.PresenceDiff:
                diffs++;
                return;
            case OpCode.Pong:
                pongs++;
                return;
            case OpCode.Joined:
                _stats.AddJoined();
                CompleteReply(ReadRid(body), ErrorCode.None);
                return;
            case OpCode.Ok:
                CompleteReply(ReadRid(body), ErrorCode.None);
                return;
            case OpCode.Welcome:
                _welcome.TrySetResult((WelcomeMessage)ServerMessageDecoder.Decode(body));
                return;
            case OpCode.Error:
                var error = (ErrorMessage)ServerMessageDecoder.Decode(body);
                _stats.Error("ERROR " + error.Code);
                if (error.Rid == 1 && !_welcome.Task.IsCompleted)
                    _welcome.TrySetException(new IOException($"HELLO refused: {error.Code} {error.Text}"));
                CompleteReply(error.Rid, error.Code);
                return;
            case OpCode.GoAway:
                var goAway = (GoAwayMessage)ServerMessageDecoder.Decode(body);
                _stats.Error("GOAWAY " + goAway.Code);
                return;
        }
    }

    private void CompleteReply(uint rid, ErrorCode code)
    {
        if (rid == 0 || rid != Volatile.Read(ref _replyRid)) return;
        Interlocked.Exchange(ref _reply, null)?.TrySetResult(code);
    }

    private static uint ReadRid(in ReadOnlySequence<byte> body)
    {
        var reader = new MessagePackReader(body);
        reader.ReadArrayHeader();
        reader.ReadInt64();
        return reader.ReadUInt32();
    }

    private static void RecordLatency(in ReadOnlySequence<byte> payload, long now, LatencyHistogram histogram)
    {
        Span<byte> head = stackalloc byte[Payload.MinSize];
        if (payload.Length < Payload.MinSize) return;
        payload.Slice(0, Payload.MinSize).CopyTo(head);
        if (Payload.TryReadLatency(head, now, out long nanoseconds)) histogram.Record(nanoseconds);
    }

    private static byte[] Grow(byte[] buffer, int filled)
    {
        byte[] grown = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
        Buffer.BlockCopy(buffer, 0, grown, 0, filled);
        ArrayPool<byte>.Shared.Return(buffer);
        return grown;
    }

    private static string Describe(Exception e) => e is SocketException s ? s.SocketErrorCode.ToString() : e.GetType().Name;
}
