using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol.Framing;

namespace PresenceD.Server.Connections;

/// <summary>
/// The send side. There is no send loop waiting per connection: the <see cref="SendScheduler"/> (for frames an
/// entry point queued) or the closing path calls <see cref="SendQueued"/>, which writes the whole pending batch
/// with one non-blocking send on the calling thread. Only when the socket buffer is full does the rest go out
/// asynchronously. An idle connection thus holds no send task, no send buffer and no send event args.
/// </summary>
internal sealed partial class Connection
{
    // 1 while one thread owns the socket's send side (a synchronous send or an async continuation).
    private int _sending;

    /// <summary>Sends what is queued, now, unless another thread is already sending (it will pick it up). Never throws.</summary>
    public void SendQueued()
    {
        if (Interlocked.CompareExchange(ref _sending, 1, 0) != 0) return;
        try
        {
            SendLoop();
        }
        catch (Exception e)
        {
            SendCrashed(e);
        }
    }

    /// <summary>Runs with <see cref="_sending"/> owned; releases it when the queue is empty or hands it to <see cref="SendRestAsync"/>.</summary>
    private void SendLoop()
    {
        while (TakeNextOrRelease(out FrameBuffer batch))
        {
            if (!SendTaken(batch)) return;
        }
    }

    /// <summary>
    /// With <see cref="_sending"/> owned: one non-blocking send of <paramref name="batch"/>. True when it went out whole
    /// (the send side is still owned); false when the rest went to <see cref="SendRestAsync"/> or the send failed.
    /// </summary>
    private bool SendTaken(FrameBuffer batch)
    {
        if (_tls is not null)
        {
            if (_stage == TransportStage.Tls) return SendTakenTls(batch);
            SendFailed(batch, SocketError.NotConnected); // nothing is sent before the handshake is done (CanSendFrames)
            return false;
        }
        ReadOnlyMemory<byte> data = batch.WrittenMemory;
        _host.Counters.CountBytesSent(data.Length);
        int sent;
        SocketError error;
        try
        {
            sent = _socket.Send(data.Span, SocketFlags.None, out error);
        }
        catch (ObjectDisposedException)
        {
            SendFailed(batch, SocketError.OperationAborted);
            return false;
        }
        if (error == SocketError.Success && sent == data.Length)
        {
            Outbound.CompleteBatch(batch);
            return true;
        }
        if (error is SocketError.Success or SocketError.WouldBlock)
        {
            _ = SendRestAsync(batch, error == SocketError.Success ? sent : 0);
            return false;
        }
        SendFailed(batch, error);
        return false;
    }

    /// <summary>
    /// With <see cref="_sending"/> owned: the next batch to send, or false once the flag is released (nothing queued).
    /// A close that waits for the flush ends here, on the one thread that owns the send side and found the queue empty.
    /// </summary>
    private bool TakeNextOrRelease(out FrameBuffer batch)
    {
        while (true)
        {
            if (Outbound.TryTakeBatch(out batch)) return true;
            if (_finishWhenFlushed)
            {
                // RequestClose queues the final GOAWAY before it sets the flag, and its own SendQueued may have lost the
                // send side to this thread after the look above: look once more while still owning it. Once that
                // finds nothing, nothing can follow (the queue is sealed), so the sending side may be shut.
                if (Outbound.TryTakeBatch(out batch)) return true;
                Interlocked.Exchange(ref _sending, 0);
                OnFlushed();
                return false;
            }
            // A full fence, not a volatile write: the release must be visible before PendingBytes is read
            // below, or a producer that queued meanwhile and saw the flag still set is never sent (x86 may
            // order a plain store after a later load).
            Interlocked.Exchange(ref _sending, 0);
            // A producer may have queued, or a close asked for the flush, after the looks above and seen the flag
            // still set: take the send side back and look again (or leave it to whoever took it first).
            if (Outbound.PendingBytes == 0 && !_finishWhenFlushed) return false;
            if (Interlocked.CompareExchange(ref _sending, 1, 0) != 0) return false;
        }
    }

    /// <summary>The socket buffer is full: finish the batch asynchronously, then go back to synchronous sends.</summary>
    private async Task SendRestAsync(FrameBuffer batch, int offset)
    {
        try
        {
            ReadOnlyMemory<byte> rest = batch.WrittenMemory.Slice(offset);
            while (!rest.IsEmpty) rest = rest.Slice(await _socket.SendAsync(rest, SocketFlags.None).ConfigureAwait(false));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            SendFailed(batch, e is SocketException se ? se.SocketErrorCode : SocketError.OperationAborted);
            return;
        }
        catch (Exception e)
        {
            SendCrashed(e);
            return;
        }
        try
        {
            Outbound.CompleteBatch(batch);
            SendLoop();
        }
        catch (Exception e)
        {
            SendCrashed(e);
        }
    }

    private void SendFailed(FrameBuffer batch, SocketError error)
    {
        Outbound.CompleteBatch(batch);
        Interlocked.Exchange(ref _sending, 0);
        RequestClose(CloseReason.SocketError, error.ToString());
        Abort();
    }

    /// <summary>A bug on the send side: the flag is released (nothing may stay stuck on it), logged, and the connection cut.</summary>
    private void SendCrashed(Exception e)
    {
        Interlocked.Exchange(ref _sending, 0);
        _host.Logger.LogError(e, "conn {Conn}: send failed", LogName);
        RequestClose(CloseReason.InternalError, e.GetType().Name);
        Abort();
    }
}
