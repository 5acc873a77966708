using System.Net.Sockets;
using System.Runtime.InteropServices;
using PresenceD.Protocol.Framing;
using PresenceD.Server.IoUring;

namespace PresenceD.Server.Connections;

/// <summary>
/// The send side on <c>io_engine io_uring</c>: a <see cref="SendScheduler"/> shard takes each touched connection's
/// pending batch (<see cref="TryBeginRingSend"/>), puts the sends of all of them into one io_uring submission, and
/// gives each its result (<see cref="EndRingSend"/>). The send side stays owned (<see cref="_sending"/>) from begin
/// to end, exactly as for one send(2); what the ring could not send whole finishes on the ordinary path.
/// </summary>
internal sealed partial class Connection
{
    private const int EAGAIN = 11;
    // Batches larger than this skip the ring. A backlog of many frames costs its copy more than its system call, and
    // sending it with send(2) paces the round so the next backlog coalesces too: measured in W1 window 100 (peers
    // shape, one run each way alternated), 4.2/3.9 M deliveries/s with every batch on the ring, 5.2/4.8 M with this
    // limit, 5.2/4.4 M on epoll, while W1 window 1 and W2, whose batches are one or two frames, keep the ring's gain.
    private const int RingSendMaxBytes = 2048;

    // The batch in the ring between TryBeginRingSend and EndRingSend, and the pin of its array.
    private FrameBuffer? _ringBatch;
    private GCHandle _ringPin;

    /// <summary>
    /// Takes the send side and the next pending batch for the ring: its socket (held open until
    /// <see cref="EndRingSend"/>, so the descriptor cannot be closed and reused meanwhile) and its bytes (pinned until
    /// then). False when another thread is sending or nothing is queued; never throws.
    /// </summary>
    public bool TryBeginRingSend(out int fd, out nint data, out int length)
    {
        fd = 0;
        data = 0;
        length = 0;
        if (Interlocked.CompareExchange(ref _sending, 1, 0) != 0) return false;
        FrameBuffer? batch = null;
        try
        {
            if (!TakeNextOrRelease(out batch)) return false;
            if (batch.WrittenCount > RingSendMaxBytes || _tls is not null)
            {
                // A backlog (see RingSendMaxBytes): the ordinary way, now; the ring gets this connection's next small batch.
                // TLS: the SslStream encrypts and writes itself.
                if (SendTaken(batch)) SendLoop();
                return false;
            }
            if (!MemoryMarshal.TryGetArray(batch.WrittenMemory, out ArraySegment<byte> segment) || segment.Array is null)
            {
                if (SendTaken(batch)) SendLoop();
                return false;
            }
            SafeSocketHandle handle = _socket.SafeHandle;
            bool added = false;
            handle.DangerousAddRef(ref added);
            // Pinned for the length of the submission only: a GC must not move the array while the kernel reads it.
            // (Pooled arrays on the pinned heap instead kept a burst's memory from going back to the OS.)
            _ringPin = GCHandle.Alloc(segment.Array, GCHandleType.Pinned);
            _ringBatch = batch;
            fd = (int)handle.DangerousGetHandle();
            length = segment.Count;
            data = _ringPin.AddrOfPinnedObject() + segment.Offset;
            _host.Counters.CountBytesSent(length);
            return true;
        }
        catch (ObjectDisposedException) when (batch is not null)
        {
            SendFailed(batch, SocketError.OperationAborted); // the socket closed under us: as a send to a closed socket
            return false;
        }
        catch (Exception e)
        {
            SendCrashed(e);
            return false;
        }
    }

    /// <summary>
    /// The ring's answer for the batch <see cref="TryBeginRingSend"/> gave it: bytes sent, a negative errno, or
    /// <see cref="SendRing.NotSent"/>. Sent whole: on to what was queued meanwhile; sent in part or not at all (a full
    /// socket, or a failed ring): the rest goes out asynchronously; an error closes the connection. Never throws.
    /// </summary>
    public void EndRingSend(int result)
    {
        FrameBuffer batch = _ringBatch!;
        _ringBatch = null;
        _ringPin.Free();
        _socket.SafeHandle.DangerousRelease();
        try
        {
            if (result == batch.WrittenCount)
            {
                Outbound.CompleteBatch(batch);
                if (Outbound.PendingBytes > 0)
                {
                    // Queued while the ring ran: into the shard's next submission, batched with everyone else's, not
                    // one send(2) of its own here. (A producer that queued meanwhile saw a non-empty queue and
                    // scheduled nothing, so this is the only wake-up it gets.)
                    Interlocked.Exchange(ref _sending, 0);
                    Scheduler.Schedule(this);
                    return;
                }
                SendLoop(); // nothing queued: releases the send side (or finishes a close that waited for the flush)
            }
            else if (result >= 0 || result is -EAGAIN or SendRing.NotSent)
            {
                _ = SendRestAsync(batch, result >= 0 ? result : 0);
            }
            else
            {
                SendFailed(batch, SocketErrorOf(-result));
            }
        }
        catch (Exception e)
        {
            SendCrashed(e);
        }
    }

    // The SocketError .NET reports for the errno a send can answer (for the close reason's detail).
    private static SocketError SocketErrorOf(int errno) => errno switch
    {
        32 => SocketError.Shutdown,          // EPIPE
        104 => SocketError.ConnectionReset,  // ECONNRESET
        107 => SocketError.NotConnected,     // ENOTCONN
        110 => SocketError.TimedOut,         // ETIMEDOUT
        9 or 88 => SocketError.OperationAborted, // EBADF, ENOTSOCK
        12 or 105 => SocketError.NoBufferSpaceAvailable, // ENOMEM, ENOBUFS
        _ => SocketError.SocketError,
    };
}
