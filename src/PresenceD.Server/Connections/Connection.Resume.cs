using Microsoft.Extensions.Logging;
using PresenceD.Protocol.Framing;

namespace PresenceD.Server.Connections;

/// <summary>
/// The connection's side of resumable sessions. When a resumable connection closes for a reason a session survives
/// (<see cref="CloseReasons.Suspends"/>), its outbound queue starts holding the room frames fan-out offers it, in
/// the same call that seals it, so no frame falls between the close and the suspension. The session above decides
/// what becomes of them: moved whole into the connection that resumes it (<see cref="MoveHeldTo"/>), or dropped
/// when the suspension ends.
/// </summary>
internal sealed partial class Connection
{
    // resume_buffer taken at HELLO when the session is resumable; 0: this connection's close ends its session.
    private long _holdLimit;
    private volatile Connection? _resumedBy;

    /// <summary>HELLO made the session resumable: a later suspending close holds up to <paramref name="holdLimit"/> bytes.</summary>
    public void EnableResume(long holdLimit) => Volatile.Write(ref _holdLimit, holdLimit);

    private volatile bool _holding;

    /// <summary>True when the close started holding frames for a suspended session (read by a resume on another thread).</summary>
    public bool IsHolding => _holding;

    /// <summary>
    /// Fan-out's way into this member's queue: queued (the batch wakes the sender when the queue was empty), held
    /// for a suspended session, or followed to the connection that resumed it. Returns true when the frame was
    /// taken. An overflow closes a live connection as a slow consumer (when the batch ends) and ends a suspended
    /// session (on a pool thread). Takes only the queues' own locks, so callers may hold a room's lock.
    /// </summary>
    public bool Deliver(ReadOnlySpan<byte> frames, SendBatch batch)
    {
        Connection target = this;
        while (true)
        {
            switch (target.Outbound.Enqueue(frames))
            {
                case EnqueueResult.FirstPending:
                    batch.Touch(target);
                    return true;
                case EnqueueResult.Queued:
                case EnqueueResult.Held:
                    return true;
                case EnqueueResult.Overflow:
                    batch.CloseAsSlowConsumer(target);
                    return false;
                case EnqueueResult.HeldOverflow:
                    ThreadPool.UnsafeQueueUserWorkItem(static c => c.RaiseHeldOverflow(), target, preferLocal: false);
                    return false;
                case EnqueueResult.Moved:
                    target = target._resumedBy!;
                    continue;
                default:
                    return false;
            }
        }
    }

    /// <summary>
    /// The session resumes on <paramref name="successor"/>: <paramref name="writeFirst"/> queues its WELCOME there, the held
    /// frames follow, and frames offered here from now on go to it. False, with nothing queued, when the holding had
    /// overflowed or been dropped.
    /// </summary>
    public bool MoveHeldTo<TState>(Connection successor, TState state, Action<FrameBuffer, TState> writeFirst, SendBatch batch, out int movedBytes)
    {
        // Set before the queue answers Moved, so whoever sees Moved finds the successor.
        _resumedBy = successor;
        if (!Outbound.MoveHeldTo(successor.Outbound, state, writeFirst, out bool wasEmpty, out movedBytes)) return false;
        _host.Counters.CountReplySent();
        if (wasEmpty) batch.Touch(successor);
        return true;
    }

    /// <summary>
    /// A resume from another node is done on this connection: <paramref name="writeFirst"/> queues its WELCOME, the frames the
    /// old node held follow, then those staged here meanwhile. False, with nothing queued, when the staging overflowed.
    /// </summary>
    public bool FinishStaging<TState>(TState state, Action<FrameBuffer, TState> writeFirst, ReadOnlySpan<byte> heldElsewhere, SendBatch batch)
    {
        if (!Outbound.FinishStaging(state, writeFirst, heldElsewhere, out bool wasEmpty)) return false;
        _host.Counters.CountReplySent();
        if (wasEmpty) batch.Touch(this);
        return true;
    }

    /// <summary>Called from <see cref="RequestClose"/> after the seal: a resumable connection closing for a suspending reason holds.</summary>
    private void HoldIfSuspending(CloseReason reason)
    {
        long limit = Volatile.Read(ref _holdLimit);
        if (limit <= 0 || !CloseReasons.Suspends(reason)) return;
        Outbound.StartHolding(limit);
        _holding = true;
    }

    private void RaiseHeldOverflow()
    {
        try
        {
            _handler.OnHeldOverflow();
        }
        catch (Exception e)
        {
            _host.Counters.CountHandlerFailure();
            _host.Logger.LogError(e, "conn {Conn}: ending the suspended session failed", LogName);
        }
    }
}
