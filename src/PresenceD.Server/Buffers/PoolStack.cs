namespace PresenceD.Server.Buffers;

/// <summary>
/// The free items of one size class: a stack, so the item returned last (still warm in cache) is rented
/// first. Each item held is charged to a <see cref="PoolBudget"/> (when there is one), and a push without
/// room is refused. The stack remembers the fewest items it held since the last <see cref="TrimIdle"/>:
/// that many were not rented once in the interval, and a trim releases exactly those.
/// </summary>
/// <remarks>
/// Thread-safe. The lock is a spin lock held for a few instructions (as in ArrayPool.Create's buckets) and
/// a leaf: nothing else is locked under it (the budget is an atomic counter).
/// </remarks>
internal sealed class PoolStack<T>
    where T : class
{
    private const int InitialSlots = 16;

    private SpinLock _lock = new(enableThreadOwnerTracking: false);
    private readonly PoolBudget? _budget;
    private readonly long _itemBytes;
    private readonly int _maxCount;
    private T?[] _items = new T?[InitialSlots];
    private int _count;
    private int _lowWater;

    /// <param name="budget">charged <paramref name="itemBytes"/> per item held; null for a pool bounded by count only</param>
    /// <param name="itemBytes">what one item costs the budget</param>
    /// <param name="maxCount">most items held, whatever the budget says</param>
    public PoolStack(PoolBudget? budget, long itemBytes, int maxCount = int.MaxValue)
    {
        _budget = budget;
        _itemBytes = itemBytes;
        _maxCount = maxCount;
    }

    public int Count => Volatile.Read(ref _count);

    public long RetainedBytes => Count * _itemBytes;

    public T? TryPop()
    {
        T? item = null;
        bool taken = false;
        try
        {
            _lock.Enter(ref taken);
            if (_count > 0)
            {
                item = _items[--_count];
                _items[_count] = null;
                if (_count < _lowWater) _lowWater = _count;
            }
        }
        finally
        {
            if (taken) _lock.Exit(useMemoryBarrier: false);
        }
        if (item is not null) _budget?.Release(_itemBytes);
        return item;
    }

    /// <summary>Keeps <paramref name="item"/>; false when the stack or the budget is full (the caller lets it go).</summary>
    public bool TryPush(T item)
    {
        bool taken = false;
        try
        {
            _lock.Enter(ref taken);
            if (_count == _maxCount || (_budget is not null && !_budget.TryReserve(_itemBytes))) return false;
            // Grows only past the most items ever held at once, which the budget bounds.
            if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
            _items[_count++] = item;
            return true;
        }
        finally
        {
            if (taken) _lock.Exit(useMemoryBarrier: false);
        }
    }

    /// <summary>Lets go of the items not rented since the last trim; returns how many.</summary>
    public int TrimIdle()
    {
        bool taken = false;
        try
        {
            _lock.Enter(ref taken);
            int idle = _lowWater;
            RemoveTop(idle);
            _lowWater = _count;
            return idle;
        }
        finally
        {
            if (taken) _lock.Exit(useMemoryBarrier: false);
        }
    }

    /// <summary>Lets go of up to <paramref name="count"/> items, used or not; returns how many.</summary>
    public int Drop(int count)
    {
        bool taken = false;
        try
        {
            _lock.Enter(ref taken);
            int dropped = Math.Min(count, _count);
            RemoveTop(dropped);
            _lowWater = Math.Min(_lowWater, _count);
            return dropped;
        }
        finally
        {
            if (taken) _lock.Exit(useMemoryBarrier: false);
        }
    }

    private void RemoveTop(int count)
    {
        if (count == 0) return;
        Array.Clear(_items, _count - count, count);
        _count -= count;
        _budget?.Release(count * _itemBytes);
        // The slot array of a burst goes too once the stack is mostly empty.
        if (_items.Length > InitialSlots && _count <= _items.Length / 4)
        {
            Array.Resize(ref _items, Math.Max(InitialSlots, _count * 2));
        }
    }
}
