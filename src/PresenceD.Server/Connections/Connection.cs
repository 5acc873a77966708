using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Expiry;

namespace PresenceD.Server.Connections;

/// <summary>
/// One client socket: the receive side (socket -> pipe -> frames -> handler, Connection.Receive.cs), the
/// send side (outbound queue -> socket, one send per batch, Connection.Send.cs), the lingering end of a close
/// (Connection.Linger.cs) and the close, here. Every close goes through <see cref="RequestClose"/> (first
/// reason wins), which tells the handler once, and ends in <see cref="Finish"/> exactly once.
/// </summary>
internal sealed partial class Connection : WheelTimer
{
    private readonly Socket _socket;
    private readonly ConnectionHost _host;
    private IConnectionHandler _handler = null!;
    private CloseDeadlineTimer? _closeDeadline;
    private TokenExpiryTimer? _tokenTimer;
    private int _closeRequested;
    private int _finished;
    private int _concluded;
    private volatile bool _finishWhenFlushed;
    private volatile bool _helloDone;
    private string? _closeDetail;
    // The last complete frame (the heartbeat), and the first byte of a frame not complete yet (NoFrame: none).
    private long _lastSeenMs;
    private long _frameStartMs = NoFrame;

    public Connection(Socket socket, ConnectionHost host, long id, EndPoint? remote)
    {
        _socket = socket;
        _socket.Blocking = false; // sends are tried synchronously first (Connection.Send.cs) and must never block
        _host = host;
        Id = id;
        Remote = remote;
        Outbound = new OutboundQueue(host.Options.Current.SendQueueLimit, host.Buffers.Send);
        _lastSeenMs = host.Clock.NowMs;
    }

    public long Id { get; }

    /// <summary>The client's address (after a PROXY header, the real one).</summary>
    public EndPoint? Remote { get; set; }

    public OutboundQueue Outbound { get; }

    /// <summary>Where <see cref="SendBatch"/> hands this connection once it has frames to send.</summary>
    public SendScheduler Scheduler => _host.Scheduler;

    public bool IsClosing => Volatile.Read(ref _closeRequested) != 0;

    public CloseReason CloseReason { get; private set; }

    public long LastSeenMs => Volatile.Read(ref _lastSeenMs);

    private ServerOptions Options => _host.Options.Current;

    /// <summary>Starts receiving into <paramref name="handler"/> and the hello deadline.</summary>
    public void Start(IConnectionHandler handler)
    {
        _handler = handler;
        _host.Wheel.Schedule(this, _host.Clock.NowMs + (long)Options.HelloTimeout.TotalMilliseconds);
        StartReceiving();
    }

    /// <summary>
    /// Queues a reply frame written by <paramref name="write"/>; <paramref name="batch"/> sends it when the entry
    /// point ends. Nothing is written once the connection is closing: a reply never follows the GOAWAY.
    /// </summary>
    public void Reply<TState>(TState state, Action<FrameBuffer, TState> write, SendBatch batch)
    {
        bool wake;
        bool over;
        using (OutboundQueue.Writer writer = Outbound.BeginWrite())
        {
            if (!writer.IsOpen) return;
            write(writer.Buffer, state);
            wake = writer.WasEmpty;
            over = writer.PendingBytes > Outbound.Limit;
        }
        _host.Counters.CountReplySent();
        if (wake) batch.Touch(this);
        if (over) batch.CloseAsSlowConsumer(this);
    }

    /// <summary>Arms the token expiry deadline (auth jwt).</summary>
    public void ScheduleTokenExpiry(long dueAtMs)
    {
        _tokenTimer ??= new TokenExpiryTimer(this);
        _host.Wheel.Schedule(_tokenTimer, dueAtMs);
    }

    /// <summary>HELLO accepted: the liveness deadline becomes the heartbeat timeout.</summary>
    public void OnHelloDone()
    {
        _helloDone = true;
        _host.Wheel.Schedule(this, LastSeenMs + (long)Options.HeartbeatTimeout.TotalMilliseconds);
    }

    /// <summary>
    /// The connection is its own hello/heartbeat/frame timer (one object less per connection): the deadline
    /// fires, then the stamps decide whether to close or re-arm lazily. After HELLO the deadline is the earlier
    /// of the last complete frame + heartbeat_timeout and the first byte of an unfinished frame + frame_timeout;
    /// a connection in the middle of a frame when it passes is a frame timeout, else a heartbeat timeout.
    /// </summary>
    protected internal override void OnExpired(long nowMs)
    {
        if (IsClosing) return;
        if (!_helloDone)
        {
            if (HandshakeUnfinished) RequestClose(CloseReason.TlsHandshakeFailed, "the handshake did not finish within hello_timeout");
            else RequestClose(CloseReason.HelloTimeout);
            return;
        }
        long lastSeen = LastSeenMs;
        long frameStart = Volatile.Read(ref _frameStartMs);
        long due = LivenessDue(lastSeen, frameStart);
        if (nowMs < due)
        {
            // Frames arrived meanwhile: re-arm lazily, unless the receive side armed an earlier frame deadline.
            _host.Wheel.ScheduleNoLaterThan(this, due);
        }
        else if (frameStart != NoFrame)
        {
            RequestClose(CloseReason.FrameTimeout, $"a frame unfinished after {nowMs - frameStart} ms, the last complete one {nowMs - lastSeen} ms ago");
        }
        else
        {
            RequestClose(CloseReason.HeartbeatTimeout, $"silent for {nowMs - lastSeen} ms");
        }
    }

    /// <summary>
    /// At the end of a read: a frame left unfinished starts the frame deadline, unless it is the one that was
    /// already unfinished before this read. A frame_timeout below heartbeat_timeout may need the timer earlier
    /// (otherwise the armed heartbeat deadline always comes first, and no lock is taken).
    /// </summary>
    private void NoteUnparsed(bool onFrameBoundary)
    {
        if (onFrameBoundary)
        {
            if (_frameStartMs != NoFrame) Volatile.Write(ref _frameStartMs, NoFrame);
            return;
        }
        if (!_framesInRead && _frameStartMs != NoFrame) return;
        long start = _readAtMs;
        Interlocked.Exchange(ref _frameStartMs, start);
        ServerOptions options = Options;
        if (_helloDone && !IsClosing && options.EffectiveFrameTimeout < options.HeartbeatTimeout)
        {
            _host.Wheel.ScheduleNoLaterThan(this, start + (long)options.EffectiveFrameTimeout.TotalMilliseconds);
        }
    }

    private long LivenessDue(long lastSeen, long frameStart)
    {
        ServerOptions options = Options;
        long due = lastSeen + (long)options.HeartbeatTimeout.TotalMilliseconds;
        return frameStart == NoFrame ? due : Math.Min(due, frameStart + (long)options.EffectiveFrameTimeout.TotalMilliseconds);
    }

    /// <summary>
    /// Closes the connection for <paramref name="reason"/>; the first call wins. Queues the GOAWAY the
    /// protocol names for the reason, tells the handler (on a pool thread, so the caller may hold any lock),
    /// and lets the send side flush before the socket closes, bounded by a deadline; then the close lingers
    /// (Connection.Linger.cs). From here on the receive side reads only to discard.
    /// </summary>
    public void RequestClose(CloseReason reason, string? detail = null, ErrorCode goAwayCode = ErrorCode.None)
    {
        if (Interlocked.CompareExchange(ref _closeRequested, 1, 0) != 0) return;
        CloseReason = reason;
        _closeDetail = detail;
        _host.Wheel.Cancel(this);
        if (_tokenTimer is not null) _host.Wheel.Cancel(_tokenTimer);
        (ErrorCode code, string message, long reconnectMs) = CloseReasons.GoAwayFor(reason, Options);
        if (goAwayCode != ErrorCode.None) code = goAwayCode;
        bool flush = reason is not (CloseReason.ClientClosed or CloseReason.SocketError or CloseReason.TlsHandshakeFailed);
        if (!CanSendFrames)
        {
            code = ErrorCode.None; // mid-handshake: nothing can reach the client, the socket is cut
            flush = false;
        }
        Outbound.Seal(discardPending: reason == CloseReason.SlowConsumer);
        HoldIfSuspending(reason);
        if (code != ErrorCode.None)
        {
            Outbound.EnqueueFinal(output => ServerFrames.GoAway(output, code, message, reconnectMs));
        }
        if (!_refused) ThreadPool.UnsafeQueueUserWorkItem(static c => c.RaiseClosing(), this, preferLocal: false);
        if (flush)
        {
            _closeDeadline = new CloseDeadlineTimer(this);
            _host.Wheel.Schedule(_closeDeadline, _host.Clock.NowMs + CloseReasons.FlushDeadlineMs);
            _finishWhenFlushed = true;
            SendQueued();
        }
        else
        {
            Abort();
        }
    }

    /// <summary>Cuts the socket now (peer gone, or the flush or linger deadline passed).</summary>
    public void Abort()
    {
        if (Volatile.Read(ref _closeRequested) == 0) RequestClose(CloseReason.InternalError, "aborted");
        _finishWhenFlushed = true;
        try
        {
            _socket.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }
        Finish();
    }

    private void RaiseClosing()
    {
        try
        {
            _handler.OnClosing(CloseReason);
        }
        catch (Exception e)
        {
            _host.Counters.CountHandlerFailure();
            _host.Logger.LogError(e, "conn {Conn}: ending the session failed", LogName);
        }
    }

    private string LogName => _handler is { ConnId.Length: > 0 } handler ? handler.ConnId : "#" + Id;

    private void Finish()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0) return;
        if (_closeDeadline is not null) _host.Wheel.Cancel(_closeDeadline);
        // Out of the count before the socket closes: a client that saw the close may connect again at once.
        ReleasePlace();
        _host.Registry.Remove(this);
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
        Concluded();
        ReleaseReceiveArgs();
    }

    /// <summary>
    /// The close is over for the client (its last frame written, or the socket gone): counted and logged once,
    /// when the linger starts or, without one, when the socket closes.
    /// </summary>
    private void Concluded()
    {
        if (Interlocked.Exchange(ref _concluded, 1) != 0) return;
        _host.Counters.CountClose(CloseReason);
        if (_refused) return; // logged once, by the listener that refused it
        _host.Logger.LogInformation("conn {Conn} user {User} from {Remote} closed: {Reason}{Detail}",
            LogName, _handler?.User ?? "", Remote, CloseReason, _closeDetail is null ? "" : " (" + _closeDetail + ")");
    }
}
