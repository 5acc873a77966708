namespace PresenceD.Server.Rooms;

/// <summary>The rooms' counters (Interlocked, exported by Diagnostics).</summary>
internal sealed class RoomCounters
{
    private long _deliveries;

    /// <summary>Frames queued to local members by fan-out: messages, wills and presence diffs.</summary>
    public long Deliveries => Volatile.Read(ref _deliveries);

    internal void CountDeliveries(int count) => Interlocked.Add(ref _deliveries, count);
}
