using PresenceD.Server.Connections;

namespace PresenceD.Server.Rooms;

/// <summary>
/// Local fan-out: a frame encoded once is copied into each visible member's bounded outbound queue. Reads the
/// room's member set without a lock and allocates nothing per recipient. A member whose queue overflows is
/// closed as a slow consumer when the batch ends, outside the room's lock, so one slow reader never stalls
/// the rest and no close runs under a room lock.
/// </summary>
internal static class RoomFanout
{
    /// <summary>Queues <paramref name="frames"/> to every visible member but <paramref name="except"/>; returns how many got it.</summary>
    public static int Deliver(Room room, ReadOnlySpan<byte> frames, Connection? except, SendBatch batch)
    {
        int delivered = 0;
        foreach (RoomMember member in room.Members)
        {
            Connection connection = member.Connection;
            if (!member.Visible || ReferenceEquals(connection, except)) continue;
            if (connection.Deliver(frames, batch)) delivered++;
        }
        room.Hub.Counters.CountDeliveries(delivered);
        return delivered;
    }

    /// <summary>
    /// Queues a frame that came through the room's channel (another node's message, presence event or will; or a history
    /// message, which every node delivers from the channel). While a handed-over member waits for its cut
    /// (Room.HandOver.cs), the frames its old node holds for it are not queued here too: every frame before the
    /// arrival's mark, and, unless <paramref name="channelOrdered"/> (history messages), the old node's own
    /// (<paramref name="origin"/>) until that node's acknowledgement.
    /// </summary>
    public static int DeliverFromChannel(Room room, ReadOnlySpan<byte> frames, string? origin, bool channelOrdered, Connection? except, SendBatch batch)
    {
        // Every member is checked for a pending mark, not only while the room counts a cut: an arrival can become visible
        // during this loop (lock-free channel messages), and a frame the channel brought before its mark is not its own.
        bool checkOrigin = origin is not null && !channelOrdered && room.HasPendingCuts;
        int delivered = 0;
        foreach (RoomMember member in room.Members)
        {
            Connection connection = member.Connection;
            if (!member.Visible || ReferenceEquals(connection, except) || member.AwaitingMark) continue;
            if (checkOrigin && member.CutFrom is { } from && from == origin) continue;
            if (connection.Deliver(frames, batch)) delivered++;
        }
        room.Hub.Counters.CountDeliveries(delivered);
        return delivered;
    }
}
