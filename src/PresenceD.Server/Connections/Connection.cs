using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Fanout;
using PresenceD.Server.Hosting;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Connections;

/// <summary>
/// One client socket and its two loops: receive (socket -> pipe -> frames -> dispatch) and send
/// (outbound queue -> socket, one send per batch). A zero-byte receive waits for data before a block
/// is rented, so an idle connection holds no receive buffer. Every close goes through
/// <see cref="RequestClose"/> (first reason wins), and ends in <see cref="Finish"/> exactly once.
/// </summary>
internal sealed class Connection
{
    private static readonly PipeOptions InputOptions = new(
        pool: BlockMemoryPool.Blocks,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0, // the receive loop parses every read at once; max_frame bounds what stays buffered
        minimumSegmentSize: BlockMemoryPool.BlockSize,
        useSynchronizationContext: false);

    private readonly Socket _socket;
    private readonly ServerContext _server;
    private readonly Pipe _input = new(InputOptions);
    private readonly SendSignal _sendSignal = new();
    private readonly LivenessTimer _livenessTimer;
    private readonly CloseDeadlineTimer _closeDeadline;
    private TokenExpiryTimer? _tokenTimer;
    private int _closeRequested;
    private int _finished;
    private volatile bool _sendLoopMayExit;
    private string? _closeDetail;
    private long _lastSeenMs;
    private Task? _pendingDispatch;

    public Connection(Socket socket, ServerContext server, long id, EndPoint? remote)
    {
        _socket = socket;
        _server = server;
        Id = id;
        Remote = remote;
        Outbound = new OutboundQueue(server.Options.SendQueueLimit);
        Session = new Session(this);
        _livenessTimer = new LivenessTimer(this);
        _closeDeadline = new CloseDeadlineTimer(this);
        _lastSeenMs = server.Clock.NowMs;
    }

    public long Id { get; }

    public ServerContext Server => _server;

    /// <summary>The client's address (after a PROXY header, the real one).</summary>
    public EndPoint? Remote { get; set; }

    public OutboundQueue Outbound { get; }

    public Session Session { get; }

    public bool IsClosing => Volatile.Read(ref _closeRequested) != 0;

    public CloseReason CloseReason { get; private set; }

    public long LastSeenMs => Volatile.Read(ref _lastSeenMs);

    /// <summary>Starts both loops and the hello deadline.</summary>
    public void Start()
    {
        _server.Wheel.Schedule(_livenessTimer, _server.Clock.NowMs + (long)_server.Options.HelloTimeout.TotalMilliseconds);
        _ = ReceiveLoopAsync();
        _ = SendLoopAsync();
    }

    /// <summary>Wakes the send loop (after frames were queued).</summary>
    public void WakeSender() => _sendSignal.Set();

    /// <summary>Queues a reply frame written by <paramref name="write"/> into the outbound queue, then wakes the sender.</summary>
    public void Reply<TState>(TState state, Action<FrameBuffer, TState> write)
    {
        bool wake;
        using (OutboundQueue.Writer writer = Outbound.BeginWrite())
        {
            write(writer.Buffer, state);
            wake = writer.WasEmpty;
        }
        if (wake) FlushBatch.Current.Add(this);
        if (Outbound.PendingBytes > Outbound.Limit) RequestClose(CloseReason.SlowConsumer);
    }

    /// <summary>Arms the token expiry deadline (auth jwt).</summary>
    public void ScheduleTokenExpiry(long dueAtMs)
    {
        _tokenTimer ??= new TokenExpiryTimer(this);
        _server.Wheel.Schedule(_tokenTimer, dueAtMs);
    }

    /// <summary>HELLO accepted: the liveness deadline becomes the heartbeat timeout.</summary>
    public void OnHelloDone() =>
        _server.Wheel.Schedule(_livenessTimer, LastSeenMs + (long)_server.Options.HeartbeatTimeout.TotalMilliseconds);

    internal void OnLivenessTimer(long nowMs)
    {
        if (IsClosing) return;
        if (!Session.HelloDone)
        {
            RequestClose(CloseReason.HelloTimeout);
            return;
        }
        long timeout = (long)_server.Options.HeartbeatTimeout.TotalMilliseconds;
        long due = LastSeenMs + timeout;
        if (nowMs >= due) RequestClose(CloseReason.HeartbeatTimeout, $"silent for {nowMs - LastSeenMs} ms");
        else _server.Wheel.Schedule(_livenessTimer, due); // frames arrived meanwhile: re-arm lazily
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter writer = _input.Writer;
        PipeReader reader = _input.Reader;
        bool lastReadFilled = false;
        try
        {
            while (!IsClosing)
            {
                if (!lastReadFilled) await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                Memory<byte> memory = writer.GetMemory(1);
                int received = await _socket.ReceiveAsync(memory, SocketFlags.None);
                if (received == 0)
                {
                    RequestClose(CloseReason.ClientClosed);
                    break;
                }
                Volatile.Write(ref _lastSeenMs, _server.Clock.NowMs);
                lastReadFilled = received == memory.Length;
                writer.Advance(received);
                await writer.FlushAsync();
                _server.Metrics.BytesReceived(received);
                if (!reader.TryRead(out ReadResult result)) continue;
                ReadOnlySequence<byte> buffer = result.Buffer;
                bool keepReading = ProcessFrames(ref buffer);
                while (_pendingDispatch is { } pending) // a request waiting on the backplane: later frames wait for it
                {
                    _pendingDispatch = null;
                    FlushBatch.Current.Flush();
                    await pending;
                    keepReading = ProcessFrames(ref buffer);
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                FlushBatch.Current.Flush();
                if (!keepReading) break;
            }
        }
        catch (SocketException e)
        {
            RequestClose(CloseReason.SocketError, e.SocketErrorCode.ToString());
        }
        catch (ObjectDisposedException)
        {
            RequestClose(CloseReason.SocketError, "socket closed");
        }
        catch (Exception e)
        {
            _server.Logger.LogError(e, "conn {Conn}: receive loop failed", Session.ConnId);
            RequestClose(CloseReason.InternalError, e.GetType().Name);
        }
        finally
        {
            FlushBatch.Current.Flush();
            await writer.CompleteAsync();
            await reader.CompleteAsync();
        }
    }

    private bool ProcessFrames(ref ReadOnlySequence<byte> buffer)
    {
        int maxFrame = _server.Options.MaxFrame;
        while (!IsClosing)
        {
            ReadOnlySequence<byte> body;
            try
            {
                if (FrameReader.TryRead(ref buffer, maxFrame, out body) == FrameStatus.NeedMore) return true;
            }
            catch (ProtocolException e)
            {
                ProtocolViolation(CloseReason.FrameTooLarge, e.Message, buffer);
                return false;
            }
            ClientRequest request;
            try
            {
                request = ClientRequestDecoder.Decode(body);
            }
            catch (ProtocolException e)
            {
                ProtocolViolation(CloseReason.ProtocolError, e.Message, body);
                return false;
            }
            _server.Metrics.FrameReceived();
            ValueTask dispatched = _server.Dispatcher.Dispatch(this, ref request);
            if (!dispatched.IsCompletedSuccessfully)
            {
                _pendingDispatch = dispatched.AsTask();
                return true;
            }
        }
        return false;
    }

    /// <summary>ERROR(PROTOCOL) with rid 0, then GOAWAY(PROTOCOL) and close; logs a quoted snippet of the bytes.</summary>
    public void ProtocolViolation(CloseReason reason, string message, in ReadOnlySequence<byte> offending)
    {
        if (IsClosing) return;
        string snippet = Convert.ToHexString(offending.Slice(0, Math.Min(offending.Length, 32)).ToArray());
        _server.Logger.LogInformation("conn {Conn} from {Remote}: protocol error: {Message} (bytes: {Snippet})", Session.ConnId, Remote, message, snippet);
        Reply(message, static (output, text) => ServerFrames.Error(output, 0, ErrorCode.Protocol, text));
        RequestClose(reason, message);
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                await _sendSignal.WaitAsync();
                while (Outbound.TryTakeBatch(out FrameBuffer batch))
                {
                    ReadOnlyMemory<byte> data = batch.WrittenMemory;
                    _server.Metrics.BytesSent(data.Length);
                    while (!data.IsEmpty)
                    {
                        int sent = await _socket.SendAsync(data, SocketFlags.None);
                        data = data.Slice(sent);
                    }
                    Outbound.CompleteBatch(batch);
                }
                if (_sendLoopMayExit)
                {
                    // RequestClose queued its last frames before setting the flag: send them too.
                    while (Outbound.TryTakeBatch(out FrameBuffer last))
                    {
                        ReadOnlyMemory<byte> data = last.WrittenMemory;
                        while (!data.IsEmpty) data = data.Slice(await _socket.SendAsync(data, SocketFlags.None));
                        Outbound.CompleteBatch(last);
                    }
                    break;
                }
            }
        }
        catch (SocketException e)
        {
            RequestClose(CloseReason.SocketError, e.SocketErrorCode.ToString());
        }
        catch (ObjectDisposedException)
        {
            RequestClose(CloseReason.SocketError, "socket closed");
        }
        catch (Exception e)
        {
            _server.Logger.LogError(e, "conn {Conn}: send loop failed", Session.ConnId);
            RequestClose(CloseReason.InternalError, e.GetType().Name);
        }
        Finish();
    }

    /// <summary>
    /// Closes the connection for <paramref name="reason"/>; the first call wins. Queues the GOAWAY the
    /// protocol names for the reason, removes the session's presence at once (on a pool thread, so the
    /// caller may hold any lock), and lets the send loop flush before the socket closes, bounded by a deadline.
    /// </summary>
    public void RequestClose(CloseReason reason, string? detail = null, ErrorCode goAwayCode = ErrorCode.None)
    {
        if (Interlocked.CompareExchange(ref _closeRequested, 1, 0) != 0) return;
        CloseReason = reason;
        _closeDetail = detail;
        _server.Wheel.Cancel(_livenessTimer);
        if (_tokenTimer is not null) _server.Wheel.Cancel(_tokenTimer);
        (ErrorCode code, string message, long reconnectMs) = CloseReasons.GoAwayFor(reason, _server.Options);
        if (goAwayCode != ErrorCode.None) code = goAwayCode;
        bool flush = reason is not (CloseReason.ClientClosed or CloseReason.SocketError);
        Outbound.Seal(discardPending: reason == CloseReason.SlowConsumer);
        if (code != ErrorCode.None)
        {
            Outbound.EnqueueFinal(output => ServerFrames.GoAway(output, code, message, reconnectMs));
        }
        ThreadPool.UnsafeQueueUserWorkItem(static c => c._server.Hub.EndSession(c.Session, c.CloseReason), this, preferLocal: false);
        if (flush)
        {
            _server.Wheel.Schedule(_closeDeadline, _server.Clock.NowMs + CloseReasons.FlushDeadlineMs);
            _sendLoopMayExit = true;
            _sendSignal.Set();
        }
        else
        {
            Abort();
        }
    }

    /// <summary>Cuts the socket now (peer gone, or the flush deadline passed).</summary>
    public void Abort()
    {
        if (Volatile.Read(ref _closeRequested) == 0) RequestClose(CloseReason.InternalError, "aborted");
        _sendLoopMayExit = true;
        try
        {
            _socket.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }
        _sendSignal.Set();
    }

    private void Finish()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0) return;
        _server.Wheel.Cancel(_closeDeadline);
        try
        {
            if (_socket.Connected) _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Dispose();
        Outbound.ReleaseAll();
        _server.Connections.Remove(this);
        _server.Metrics.ConnectionClosed(CloseReason);
        _server.Logger.LogInformation("conn {Conn} user {User} from {Remote} closed: {Reason}{Detail}",
            Session.ConnId.Length > 0 ? Session.ConnId : "#" + Id, Session.User, Remote, CloseReason,
            _closeDetail is null ? "" : " (" + _closeDetail + ")");
    }
}
