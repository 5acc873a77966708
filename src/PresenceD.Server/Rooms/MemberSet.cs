namespace PresenceD.Server.Rooms;

/// <summary>
/// The local members of one room, the base of <see cref="Room"/>. Readers enumerate <see cref="Members"/> without a lock and
/// without allocating; writers (join/leave) take the room's lock and cost O(1) amortized.
/// </summary>
/// <remarks>
/// Members live in a slot array and never move inside a published array: a leave nulls its
/// position and the position is reused by a later join. When the array is full it grows into a
/// new array; when fewer than a quarter of the used positions hold members it is compacted into
/// a new array. Writers lock the room object itself: no separate lock object, since a room per
/// connection is common and every byte per room counts. Both publish the new array with a release write, so a reader on the old one
/// still sees a consistent view, and enumeration costs at most ~4x the member count.
/// Because compaction moves members, the slot handed to a member is a stable handle into a
/// handle table (handle -> position), not a position. The handle table is sized by the room's
/// peak membership (4 bytes per handle) and is freed with the room.
/// </remarks>
internal class MemberSet<T>
    where T : class
{
    // Most rooms hold few members (a room per user or per match); growth doubles from here.
    private const int InitialCapacity = 1;
    // Below this many used positions a sparse array costs less to scan than to rebuild.
    private const int CompactionFloor = 64;

    private RoomSegment<T> _segment;
    private int[] _positionHandle;
    private int[] _freePositions;
    private int _freePositionCount;
    private int[] _handlePosition;
    private int[] _freeHandles;
    private int _freeHandleCount;
    private int _handleHigh;
    private volatile int _count;
    private bool _retired;

    public MemberSet(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Name = name;
        _segment = new RoomSegment<T>(InitialCapacity);
        _positionHandle = new int[InitialCapacity];
        _freePositions = []; // free lists appear with the first leave: many rooms never see one
        _handlePosition = new int[InitialCapacity];
        _freeHandles = [];
    }

    public string Name { get; }

    public int Count => _count;

    /// <summary>True once the room emptied and was taken out of its index; it accepts no joins.</summary>
    public bool IsRetired => Volatile.Read(ref _retired);

    public RoomMembers<T> Members => new(Volatile.Read(ref _segment));

    /// <summary>Adds <paramref name="member"/>; <paramref name="slot"/> is its handle for <see cref="Remove"/>.
    /// False when the room was retired.</summary>
    public bool TryAdd(T member, out int slot)
    {
        ArgumentNullException.ThrowIfNull(member);
        lock (this)
        {
            if (_retired)
            {
                slot = -1;
                return false;
            }

            RoomSegment<T> segment = _segment;
            int position;
            if (_freePositionCount > 0)
            {
                position = _freePositions[--_freePositionCount];
            }
            else
            {
                if (segment.Used == segment.Items.Length)
                {
                    segment = Rebuild(segment.Used * 2);
                }

                position = segment.Used;
            }

            int handle = _freeHandleCount > 0 ? _freeHandles[--_freeHandleCount] : NewHandle();
            _handlePosition[handle] = position;
            _positionHandle[position] = handle;
            Volatile.Write(ref segment.Items[position], member);
            if (position == segment.Used)
            {
                Volatile.Write(ref segment.Used, position + 1);
            }

            _count++;
            slot = handle;
            return true;
        }
    }

    /// <summary>Removes the member added under <paramref name="slot"/>.</summary>
    public void Remove(int slot) => RemoveCore(slot, retireWhenEmpty: false);

    /// <summary>Removes the member and, when that empties the room, retires it (no join succeeds after).
    /// Returns true when this call retired the room.</summary>
    internal bool RemoveAndRetireIfEmpty(int slot) => RemoveCore(slot, retireWhenEmpty: true);

    private bool RemoveCore(int slot, bool retireWhenEmpty)
    {
        lock (this)
        {
            int position = (uint)slot < (uint)_handleHigh ? _handlePosition[slot] : -1;
            if (position < 0)
            {
                throw new InvalidOperationException($"Slot {slot} of room '{Name}' holds no member.");
            }

            _handlePosition[slot] = -1;
            Push(ref _freeHandles, ref _freeHandleCount, slot);
            RoomSegment<T> segment = _segment;
            Volatile.Write(ref segment.Items[position], null);
            int count = _count - 1;
            _count = count;
            if (segment.Used > CompactionFloor && count < segment.Used / 4)
            {
                Rebuild(Math.Max(InitialCapacity, count * 2));
            }
            else
            {
                Push(ref _freePositions, ref _freePositionCount, position);
            }

            if (retireWhenEmpty && count == 0)
            {
                Volatile.Write(ref _retired, true);
                return true;
            }

            return false;
        }
    }

    // Copies the members, packed, into a new array and publishes it; used both to grow and to compact.
    private RoomSegment<T> Rebuild(int capacity)
    {
        RoomSegment<T> old = _segment;
        var rebuilt = new RoomSegment<T>(Math.Max(InitialCapacity, capacity));
        var positionHandle = new int[rebuilt.Items.Length];
        int used = 0;
        for (int position = 0; position < old.Used; position++)
        {
            T? member = old.Items[position];
            if (member is null)
            {
                continue;
            }

            int handle = _positionHandle[position];
            rebuilt.Items[used] = member;
            positionHandle[used] = handle;
            _handlePosition[handle] = used;
            used++;
        }

        rebuilt.Used = used;
        _positionHandle = positionHandle;
        _freePositionCount = 0;
        Volatile.Write(ref _segment, rebuilt);
        return rebuilt;
    }

    private int NewHandle()
    {
        if (_handleHigh == _handlePosition.Length)
        {
            Array.Resize(ref _handlePosition, _handlePosition.Length * 2);
        }

        return _handleHigh++;
    }

    private static void Push(ref int[] stack, ref int count, int value)
    {
        if (count == stack.Length) Array.Resize(ref stack, Math.Max(4, stack.Length * 2));
        stack[count++] = value;
    }
}
