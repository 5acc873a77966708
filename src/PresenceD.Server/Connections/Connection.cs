using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Expiry;
using PresenceD.Server.Fanout;
using PresenceD.Server.Hosting;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Connections;

/// <summary>
/// One client socket: the receive side (socket -> pipe -> frames -> dispatch, Connection.Receive.cs), the
/// send side (outbound queue -> socket, one send per batch, Connection.Send.cs) and the close, here. Every
/// close goes through <see cref="RequestClose"/> (first reason wins) and ends in <see cref="Finish"/> exactly once.
/// </summary>
internal sealed partial class Connection : WheelTimer
{
    private readonly Socket _socket;
    private readonly ServerContext _server;
    private CloseDeadlineTimer? _closeDeadline;
    private TokenExpiryTimer? _tokenTimer;
    private int _closeRequested;
    private int _finished;
    private volatile bool _finishWhenFlushed;
    private string? _closeDetail;
    private long _lastSeenMs;

    public Connection(Socket socket, ServerContext server, long id, EndPoint? remote)
    {
        _socket = socket;
        _socket.Blocking = false; // sends are tried synchronously first (Connection.Send.cs) and must never block
        _server = server;
        Id = id;
        Remote = remote;
        Outbound = new OutboundQueue(server.Options.SendQueueLimit, server.Buffers.Send);
        Session = new Session(this);
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

    /// <summary>Starts receiving and the hello deadline.</summary>
    public void Start()
    {
        _server.Wheel.Schedule(this, _server.Clock.NowMs + (long)_server.Options.HelloTimeout.TotalMilliseconds);
        StartReceiving();
    }

    /// <summary>Queues a reply frame written by <paramref name="write"/> into the outbound queue, then wakes the sender.</summary>
    public void Reply<TState>(TState state, Action<FrameBuffer, TState> write)
    {
        bool wake;
        using (OutboundQueue.Writer writer = Outbound.BeginWrite())
        {
            write(writer.Buffer, state);
            wake = writer.WasEmpty;
        }
        _server.Metrics.ReplySent();
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
        _server.Wheel.Schedule(this, LastSeenMs + (long)_server.Options.HeartbeatTimeout.TotalMilliseconds);

    /// <summary>
    /// The connection is its own hello/heartbeat timer (one object less per connection): the deadline fires,
    /// then the last-seen stamp decides whether to close or re-arm lazily.
    /// </summary>
    protected internal override void OnExpired(long nowMs)
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
        else _server.Wheel.Schedule(this, due); // frames arrived meanwhile: re-arm lazily
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
        _server.Wheel.Cancel(this);
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
            _closeDeadline = new CloseDeadlineTimer(this);
            _server.Wheel.Schedule(_closeDeadline, _server.Clock.NowMs + CloseReasons.FlushDeadlineMs);
            _finishWhenFlushed = true;
            WakeSender();
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

    private void Finish()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0) return;
        if (_closeDeadline is not null) _server.Wheel.Cancel(_closeDeadline);
        // Out of the count before the socket closes: a client that saw the close may connect again at once.
        _server.Connections.Remove(this);
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
        _server.Metrics.ConnectionClosed(CloseReason);
        _server.Logger.LogInformation("conn {Conn} user {User} from {Remote} closed: {Reason}{Detail}",
            Session.ConnId.Length > 0 ? Session.ConnId : "#" + Id, Session.User, Remote, CloseReason,
            _closeDetail is null ? "" : " (" + _closeDetail + ")");
    }
}
