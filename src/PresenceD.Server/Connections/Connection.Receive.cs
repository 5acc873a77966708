using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Tls;

namespace PresenceD.Server.Connections;

/// <summary>
/// The receive side, driven by one reusable SocketAsyncEventArgs (no async state machine kept per
/// connection): a zero-byte receive waits for data with no buffer, then the bytes go through a Pipe
/// (which stitches frames that span reads) into the frame reader and the dispatcher. The Pipe itself is
/// borrowed from a pool only while bytes are buffered and goes back as soon as a read ends on a frame
/// boundary, so an idle connection holds neither a buffer nor a pipe. Heartbeats are stamped here: a
/// complete frame stamps the time of the read that completed it (not when a slow request finishes), and a
/// frame left unfinished by a read starts the frame deadline. Each read is one entry point: the frames it
/// queues to any connection go out through one <see cref="SendBatch"/>, sent when the read was parsed. Once the
/// connection is closing, the receive side only drains (Connection.Linger.cs).
/// </summary>
internal sealed partial class Connection
{
    private ReceiveArgs? _receiveArgs;
    private Pipe? _pipe;
    private bool _readingData;
    private bool _lastReadFilled;
    private Task? _pendingDispatch;
    private long _readAtMs;
    private bool _framesInRead;
    // The receive loop and the close each hold the receive args; the last to let go disposes them (ReleaseReceiveArgs).
    private int _receiveArgsHolders = 2;

    /// <summary>Starts receiving; each completion continues the loop on the thread that completed it.</summary>
    private void StartReceiving()
    {
        _receiveArgs = new ReceiveArgs(this);
        if (_host.TlsMode != Configuration.TlsMode.Off)
        {
            _ = SniffAsync(); // Connection.Tls.cs: TLS, or (tls optional) plain
            return;
        }
        ReceiveNext();
    }

    /// <summary>Receives again after a request that waited on the backplane, on the connection's transport.</summary>
    private void ResumeReceiving()
    {
        if (_stage == TransportStage.Tls) _ = ReceiveTlsAsync();
        else ReceiveNext();
    }

    /// <summary>
    /// Issues receives until one is pending. A zero-byte receive first when the connection was idle, so no
    /// block is rented before data is there; synchronous completions loop here instead of recursing.
    /// </summary>
    private void ReceiveNext()
    {
        ReceiveArgs args = _receiveArgs!;
        try
        {
            while (!IsClosing)
            {
                if (!_readingData && _pipe is null && !_lastReadFilled)
                {
                    args.SetBuffer(Memory<byte>.Empty);
                    if (_socket.ReceiveAsync(args)) return;
                    if (!WaitedForData(args)) return;
                }
                _pipe ??= _host.Buffers.RentPipe();
                _readingData = true;
                args.SetBuffer(_pipe.Writer.GetMemory(1));
                if (_socket.ReceiveAsync(args)) return;
                if (!OnDataReceived(args)) return;
            }
            DrainInput();
        }
        catch (ObjectDisposedException)
        {
            RequestClose(CloseReason.SocketError, "socket closed");
            InputEnded();
        }
        catch (Exception e)
        {
            ReceiveFailed(e);
        }
    }

    private void OnReceiveCompleted(ReceiveArgs args)
    {
        if (_draining)
        {
            OnDrainCompleted(args);
            return;
        }
        try
        {
            bool goOn = _readingData ? OnDataReceived(args) : WaitedForData(args);
            if (goOn) ReceiveNext();
        }
        catch (Exception e)
        {
            ReceiveFailed(e);
        }
    }

    private bool WaitedForData(ReceiveArgs args)
    {
        if (args.SocketError == SocketError.Success) return true;
        RequestClose(CloseReason.SocketError, args.SocketError.ToString());
        InputEnded();
        return false;
    }

    private bool OnDataReceived(ReceiveArgs args) => OnBytesReceived(args.BytesTransferred, args.Count, args.SocketError);

    /// <summary>Parses what one receive (of at most <paramref name="capacity"/> bytes) brought; false when the loop must stop.</summary>
    private bool OnBytesReceived(int received, int capacity, SocketError error)
    {
        _readingData = false;
        Pipe pipe = _pipe!;
        if (error != SocketError.Success || received == 0)
        {
            RequestClose(received == 0 && error == SocketError.Success ? CloseReason.ClientClosed : CloseReason.SocketError,
                error == SocketError.Success ? null : error.ToString());
            InputEnded();
            return false;
        }
        _readAtMs = _host.Clock.NowMs;
        _framesInRead = false;
        _lastReadFilled = received == capacity;
        _host.Counters.CountBytesReceived(received);
        pipe.Writer.Advance(received);
        // With no pause threshold and inline schedulers the flush completes synchronously.
        ValueTask<FlushResult> flush = pipe.Writer.FlushAsync();
        if (!flush.IsCompletedSuccessfully) throw new InvalidOperationException("the input pipe paused its writer");
        _ = flush.Result;
        if (!pipe.Reader.TryRead(out ReadResult result)) return true;
        ReadOnlySequence<byte> buffer = result.Buffer;
        bool keepReading;
        using (SendBatch batch = SendBatch.Open()) keepReading = ProcessFrames(ref buffer, batch);
        if (_pendingDispatch is not null)
        {
            // A request waits on the backplane: the rest of this read (and the next receive) waits for it.
            _ = ContinueAfterDispatchAsync(pipe, buffer);
            return false;
        }
        return CompleteRead(pipe, buffer, keepReading);
    }

    /// <summary>Hands the unparsed rest back to the pipe; true: receive again (a closing connection then drains).</summary>
    private bool CompleteRead(Pipe pipe, ReadOnlySequence<byte> buffer, bool keepReading)
    {
        pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        NoteUnparsed(buffer.IsEmpty);
        if (buffer.IsEmpty && !_lastReadFilled)
        {
            _host.Buffers.ReturnPipe(pipe);
            _pipe = null;
        }
        if (!keepReading) EndReceiving();
        return true;
    }

    /// <summary>
    /// Awaits a dispatch that waits on Redis (JOIN of a room this node does not hold yet, PRESENCE, COUNT,
    /// ONLINE), then parses the frames behind it, so replies keep request order; then receives again.
    /// </summary>
    private async Task ContinueAfterDispatchAsync(Pipe pipe, ReadOnlySequence<byte> buffer)
    {
        try
        {
            bool keepReading = true;
            while (_pendingDispatch is { } pending)
            {
                _pendingDispatch = null;
                await pending.ConfigureAwait(false);
                using SendBatch batch = SendBatch.Open();
                keepReading = ProcessFrames(ref buffer, batch);
            }
            if (CompleteRead(pipe, buffer, keepReading)) ResumeReceiving();
        }
        catch (Exception e)
        {
            ReceiveFailed(e);
        }
    }

    private void ReceiveFailed(Exception e)
    {
        if (e is SocketException se) RequestClose(CloseReason.SocketError, se.SocketErrorCode.ToString());
        else
        {
            _host.Logger.LogError(e, "conn {Conn}: receive failed", LogName);
            RequestClose(CloseReason.InternalError, e.GetType().Name);
        }
        InputEnded();
    }

    /// <summary>The receive side is done: give the pipe back (the socket itself closes in Finish).</summary>
    private void EndReceiving()
    {
        Pipe? pipe = Interlocked.Exchange(ref _pipe, null);
        if (pipe is not null) _host.Buffers.ReturnPipe(pipe);
    }

    private bool ProcessFrames(ref ReadOnlySequence<byte> buffer, SendBatch batch)
    {
        int maxFrame = Options.MaxFrame;
        while (!IsClosing)
        {
            ReadOnlySequence<byte> body;
            try
            {
                if (FrameReader.TryRead(ref buffer, maxFrame, out body) == FrameStatus.NeedMore) return true;
            }
            catch (ProtocolException e)
            {
                // A TLS client on a port without TLS: its ClientHello reads as a frame over max_frame. Say what it is.
                if (TlsRecords.StartsWithClientHello(buffer)) ProtocolViolation(CloseReason.TlsOnPlainPort, "a TLS handshake on a port without TLS (tls off)", buffer, batch);
                else ProtocolViolation(CloseReason.FrameTooLarge, e.Message, buffer, batch);
                return false;
            }
            if (!_framesInRead)
            {
                _framesInRead = true;
                Volatile.Write(ref _lastSeenMs, _readAtMs); // only a complete frame is a heartbeat
            }
            ClientRequest request;
            try
            {
                request = ClientRequestDecoder.Decode(body);
            }
            catch (ProtocolException e)
            {
                ProtocolViolation(CloseReason.ProtocolError, e.Message, body, batch);
                return false;
            }
            _host.Counters.CountFrameReceived();
            ValueTask dispatched = _handler.OnRequest(ref request, batch);
            if (!dispatched.IsCompletedSuccessfully)
            {
                _pendingDispatch = dispatched.AsTask();
                return true;
            }
        }
        return false;
    }

    /// <summary>ERROR(PROTOCOL) with rid 0, then GOAWAY(PROTOCOL) and close; logs a quoted snippet of the bytes.</summary>
    public void ProtocolViolation(CloseReason reason, string message, in ReadOnlySequence<byte> offending, SendBatch batch)
    {
        if (IsClosing) return;
        string snippet = Convert.ToHexString(offending.Slice(0, Math.Min(offending.Length, 32)).ToArray());
        _host.Logger.LogInformation("conn {Conn} from {Remote}: protocol error: {Message} (bytes: {Snippet})", LogName, Remote, message, snippet);
        Reply(message, static (output, text) => ServerFrames.Error(output, 0, ErrorCode.Protocol, text), batch);
        _host.Counters.CountProtocolError();
        RequestClose(reason, message);
    }

    /// <summary>
    /// The receive loop has stopped (input ended) or the connection is finished: called once by each. The second
    /// call disposes the receive args, when no receive can be pending any more. Undisposed, each args object waits
    /// for its finalizer, and through it keeps the whole closed connection (queue, session, buffers) alive past
    /// the collections that should have reclaimed it: promoted to gen 2 with it, which is how memory crept up
    /// under churn (issue 17, hole 5).
    /// </summary>
    private void ReleaseReceiveArgs()
    {
        if (Interlocked.Decrement(ref _receiveArgsHolders) != 0) return;
        _receiveArgs?.Dispose();
        DisposeTls();
    }

    /// <summary>One reusable receive operation per connection, completing straight into the connection.</summary>
    private sealed class ReceiveArgs(Connection connection) : SocketAsyncEventArgs(unsafeSuppressExecutionContextFlow: true)
    {
        protected override void OnCompleted(SocketAsyncEventArgs e) => connection.OnReceiveCompleted(this);
    }
}
