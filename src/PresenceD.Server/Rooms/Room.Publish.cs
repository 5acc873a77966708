using System.Buffers;
using PresenceD.Protocol.Framing;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Rooms;

/// <summary>A room's messages: one path for every kind of room, its history deciding the offset and who delivers.</summary>
internal sealed partial class Room
{
    /// <summary>
    /// PUBLISH from a member: encoded once with the offset the history gives it, queued to every other visible
    /// member, then handed to the broker as the same bytes. False when the other nodes could not be reached
    /// (the reply is then DEGRADED: this node's members got it, nobody else).
    /// </summary>
    public bool Publish(RoomMember from, in ReadOnlySequence<byte> payload, SendBatch batch)
    {
        IRoomHistory history = History;
        if (!history.Enabled)
        {
            // No offsets to keep in order: no lock, unless a hand-over's cut holds the room (Room.HandOver.cs).
            if (TryEnterLockFreePublish())
            {
                try
                {
                    return DeliverAndForward(from, payload, batch);
                }
                finally
                {
                    ExitLockFreePublish();
                }
            }
            lock (Sync) return DeliverAndForward(from, payload, batch);
        }
        lock (Sync)
        {
            FrameBuffer frame = batch.NewFrame();
            switch (history.Append(from, payload, frame))
            {
                case HistoryAppend.Deferred:
                    return true;
                case HistoryAppend.Unavailable:
                    RoomFanout.Deliver(this, frame.WrittenSpan, except: from.Connection, batch);
                    return false;
                default:
                    RoomFanout.Deliver(this, frame.WrittenSpan, except: from.Connection, batch);
                    return Broker.Forward(frame.WrittenSpan);
            }
        }
    }

    private bool DeliverAndForward(RoomMember from, in ReadOnlySequence<byte> payload, SendBatch batch)
    {
        FrameBuffer frame = batch.NewFrame();
        History.Append(from, payload, frame);
        RoomFanout.Deliver(this, frame.WrittenSpan, except: from.Connection, batch);
        return Broker.Forward(frame.WrittenSpan);
    }
}
