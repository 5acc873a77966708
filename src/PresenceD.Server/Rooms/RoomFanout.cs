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
}
