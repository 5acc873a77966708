using System.Net.Sockets;

namespace PresenceD.Server.Connections;

/// <summary>
/// The end of a close, as HTTP servers do it (nginx's lingering close): a client may still be writing when the
/// server closes, and a socket closed with unread input, or one that input reaches after the close, is reset by
/// the kernel, which throws away what the send buffer still held: the ERROR and GOAWAY the client was meant to
/// read. So from <see cref="RequestClose"/> on the receive side reads only to discard; once the GOAWAY is
/// written the sending side is shut (the client reads the frames, then end of stream), and the socket closes
/// when the client's end of stream arrives or close_linger has passed, whichever is first.
/// </summary>
internal sealed partial class Connection
{
    private const long NoFrame = long.MinValue;

    // What this connection holds in the registry: a place under max_connections, or one of the few refusals.
    private const int PlaceNone = 0;
    private const int PlaceConnection = 1;
    private const int PlaceRefusal = 2;

    // Every draining receive writes here: the bytes are never read, so one pinned buffer serves all connections.
    private static readonly byte[] DiscardBuffer = GC.AllocateUninitializedArray<byte>(16 * 1024, pinned: true);

    private int _place = PlaceConnection;
    private bool _refused;
    private bool _draining;
    private int _flushed;
    private int _inputEnded;

    /// <summary>
    /// Refuses a connection that holds no place (server full): sends the GOAWAY for <paramref name="reason"/> and
    /// closes the same lingering way, holding one of the registry's refusals instead of a place.
    /// </summary>
    public void Refuse(CloseReason reason, string detail)
    {
        _refused = true;
        _place = PlaceRefusal;
        _handler = RefusedHandler.Instance;
        RequestClose(reason, detail);
        _receiveArgs = new ReceiveArgs(this);
        ReceiveNext();
    }

    /// <summary>The GOAWAY is written: shut the sending side, then linger until the client's end of stream or close_linger.</summary>
    private void OnFlushed()
    {
        if (Interlocked.Exchange(ref _flushed, 1) != 0) return;
        long linger = (long)Options.CloseLinger.TotalMilliseconds;
        if (linger == 0 || _closeDeadline is null || Volatile.Read(ref _inputEnded) != 0)
        {
            // No linger wanted, nothing more to read, or no flush was asked for (the socket is being cut).
            Finish();
            return;
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Finish();
            return;
        }
        // Lingering is not being open: the place goes back now (a refusal's slot only when the socket closes),
        // and the close is counted and logged now.
        if (!_refused) ReleasePlace();
        Concluded();
        _host.Wheel.Schedule(_closeDeadline!, _host.Clock.NowMs + linger);
        if (Volatile.Read(ref _inputEnded) != 0) Finish();
    }

    /// <summary>Closing: receives into the discard buffer until the client's end of stream, an error, or the socket is cut.</summary>
    private void DrainInput()
    {
        EndReceiving();
        _draining = true;
        ReceiveArgs args = _receiveArgs!;
        args.SetBuffer(DiscardBuffer, 0, DiscardBuffer.Length);
        DrainNext(args);
    }

    /// <summary>A draining receive completed asynchronously.</summary>
    private void OnDrainCompleted(ReceiveArgs args)
    {
        if (OnDiscarded(args)) DrainNext(args);
    }

    /// <summary>Issues discarding receives until one is pending or the input ends; synchronous completions loop here.</summary>
    private void DrainNext(ReceiveArgs args)
    {
        try
        {
            while (!_socket.ReceiveAsync(args))
            {
                if (!OnDiscarded(args)) return;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            InputEnded();
        }
    }

    /// <summary>Counts what a draining receive brought; false when the input has ended.</summary>
    private bool OnDiscarded(ReceiveArgs args)
    {
        if (args.SocketError == SocketError.Success && args.BytesTransferred > 0)
        {
            _host.Counters.CountBytesReceived(args.BytesTransferred);
            return true;
        }
        InputEnded();
        return false;
    }

    /// <summary>The client sent its end of stream, or the socket failed or was cut: nothing more to read.</summary>
    private void InputEnded()
    {
        EndReceiving();
        bool first = Interlocked.Exchange(ref _inputEnded, 1) == 0;
        if (Volatile.Read(ref _flushed) != 0) Finish();
        if (first) ReleaseReceiveArgs();
    }

    /// <summary>Gives back what this connection holds in the registry, once.</summary>
    private void ReleasePlace()
    {
        switch (Interlocked.Exchange(ref _place, PlaceNone))
        {
            case PlaceConnection:
                _host.Registry.Unreserve();
                break;
            case PlaceRefusal:
                _host.Registry.ReleaseRefusal();
                break;
        }
    }

    /// <summary>The handler of a refused connection: it never reads a frame and has no session to end.</summary>
    private sealed class RefusedHandler : IConnectionHandler
    {
        public static readonly RefusedHandler Instance = new();

        public string ConnId => "";

        public string User => "";

        public ValueTask OnRequest(ref PresenceD.Protocol.Messages.ClientRequest request, SendBatch batch) => ValueTask.CompletedTask;

        public void OnClosing(CloseReason reason)
        {
        }

        public void OnHeldOverflow()
        {
        }
    }
}
