using PresenceD.Protocol.Framing;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Fanout;

/// <summary>
/// Local fan-out: frames encoded once are copied into each visible member's bounded outbound queue.
/// Reads the room's member set without a lock and allocates nothing per recipient. A member whose queue
/// overflows is closed as a slow consumer on another thread, so one slow reader never stalls the rest.
/// </summary>
internal static class RoomBroadcaster
{
    [ThreadStatic] private static FrameBuffer? t_scratch;

    /// <summary>A per-thread buffer to encode a frame into once before <see cref="Deliver"/>. Clear it first.</summary>
    public static FrameBuffer Scratch
    {
        get
        {
            FrameBuffer scratch = t_scratch ??= new FrameBuffer(4096);
            scratch.Clear();
            return scratch;
        }
    }

    /// <summary>Queues <paramref name="frames"/> to every visible member but <paramref name="except"/>; returns how many got it.</summary>
    public static int Deliver(Room<RoomMember> room, ReadOnlySpan<byte> frames, Session? except)
    {
        FlushBatch batch = FlushBatch.Current;
        int delivered = 0;
        foreach (RoomMember member in room.Members)
        {
            if (!member.Visible || ReferenceEquals(member.Session, except)) continue;
            delivered += DeliverTo(member.Session.Connection, frames, batch);
        }
        return delivered;
    }

    /// <summary>Queues frames to one connection (1 when queued).</summary>
    public static int DeliverTo(Connection connection, ReadOnlySpan<byte> frames, FlushBatch batch)
    {
        switch (connection.Outbound.Enqueue(frames))
        {
            case EnqueueResult.FirstPending:
                batch.Add(connection);
                return 1;
            case EnqueueResult.Queued:
                return 1;
            case EnqueueResult.Overflow:
                connection.RequestClose(CloseReason.SlowConsumer);
                return 0;
            default:
                return 0;
        }
    }
}
