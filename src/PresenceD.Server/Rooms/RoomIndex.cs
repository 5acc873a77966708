using System.Collections.Concurrent;

namespace PresenceD.Server.Rooms;

/// <summary>
/// Room name -> local room (a <see cref="MemberSet{T}"/> made by the index's factory). Lookups take no lock. A room that empties is retired under its own
/// lock and only then removed by (name, instance), so a concurrent join either lands in the room
/// before it empties or sees it retired and creates a fresh one: no join is ever lost.
/// </summary>
internal sealed class RoomIndex<TRoom, T>
    where TRoom : MemberSet<T>
    where T : class
{
    private readonly ConcurrentDictionary<string, TRoom> _rooms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TRoom>.AlternateLookup<ReadOnlySpan<char>> _roomsBySpan;
    private readonly Func<string, TRoom> _create;
    private int _count;

    /// <param name="create">Makes an empty room; it must have no side effect, since a room that loses a creation race is dropped unseen.</param>
    public RoomIndex(Func<string, TRoom> create)
    {
        _create = create;
        _roomsBySpan = _rooms.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Every room at some moment of the enumeration; for sweeps and metrics, not hot paths.</summary>
    public IEnumerable<TRoom> Rooms
    {
        get
        {
            foreach (KeyValuePair<string, TRoom> pair in _rooms)
            {
                yield return pair.Value;
            }
        }
    }

    /// <summary>Adds <paramref name="member"/> to room <paramref name="name"/>, creating the room if needed
    /// (<paramref name="created"/>: this call published it, so it is the one to open it).</summary>
    public TRoom Join(string name, T member, out int slot, out bool created)
    {
        ArgumentNullException.ThrowIfNull(name);
        while (true)
        {
            if (_rooms.TryGetValue(name, out TRoom? room))
            {
                if (room.TryAdd(member, out slot))
                {
                    created = false;
                    return room;
                }

                // Retired but not yet removed by its last leaver: help, then retry.
                RemoveRetired(room);
                continue;
            }

            // The member goes in before the room is published, so no empty room is ever visible.
            TRoom fresh = _create(name);
            fresh.TryAdd(member, out slot);
            if (_rooms.TryAdd(name, fresh))
            {
                Interlocked.Increment(ref _count);
                created = true;
                return fresh;
            }
        }
    }

    /// <summary>Removes the member; returns true when this leave emptied the room and retired it.</summary>
    public bool Leave(TRoom room, int slot)
    {
        ArgumentNullException.ThrowIfNull(room);
        if (!room.RemoveAndRetireIfEmpty(slot))
        {
            return false;
        }

        RemoveRetired(room);
        return true;
    }

    public TRoom? Find(string name) => _rooms.TryGetValue(name, out TRoom? room) ? room : null;

    public TRoom? Find(ReadOnlySpan<char> name) => _roomsBySpan.TryGetValue(name, out TRoom? room) ? room : null;

    private void RemoveRetired(TRoom room)
    {
        if (_rooms.TryRemove(new KeyValuePair<string, TRoom>(room.Name, room)))
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
