namespace PresenceD.Server.Rooms;

/// <summary>
/// One published member array and its high-water mark. Growth or compaction publishes a new
/// segment instead of resizing, so a reader holding the old one keeps a consistent view.
/// </summary>
internal sealed class RoomSegment<T>
    where T : class
{
    public readonly T?[] Items;
    // Positions [0, Used) may hold members; only ever increases within one segment.
    public int Used;

    public RoomSegment(int capacity) => Items = new T?[capacity];
}
