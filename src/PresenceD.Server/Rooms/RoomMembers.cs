namespace PresenceD.Server.Rooms;

/// <summary>
/// A lock-free, allocation-free view of a room's members taken when enumeration starts. Members
/// never move inside a published array, so a member that stays in the room during the whole
/// enumeration is seen exactly once; members joining or leaving meanwhile may or may not be seen.
/// </summary>
internal readonly struct RoomMembers<T>
    where T : class
{
    private readonly RoomSegment<T> _segment;

    internal RoomMembers(RoomSegment<T> segment) => _segment = segment;

    public Enumerator GetEnumerator() => new(_segment.Items, Volatile.Read(ref _segment.Used));

    public struct Enumerator
    {
        private readonly T?[] _items;
        private readonly int _used;
        private int _index;
        private T? _current;

        internal Enumerator(T?[] items, int used)
        {
            _items = items;
            _used = Math.Min(used, items.Length);
            _index = -1;
            _current = null;
        }

        public readonly T Current => _current!;

        public bool MoveNext()
        {
            while (++_index < _used)
            {
                T? member = Volatile.Read(ref _items[_index]);
                if (member is not null)
                {
                    _current = member;
                    return true;
                }
            }

            _current = null;
            return false;
        }
    }
}
