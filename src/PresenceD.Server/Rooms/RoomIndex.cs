using System.Collections.Concurrent;

namespace PresenceD.Server.Rooms;

/// <summary>
/// Room name -> local room. Lookups take no lock. A room that empties is retired under its own
/// lock and only then removed by (name, instance), so a concurrent join either lands in the room
/// before it empties or sees it retired and creates a fresh one: no join is ever lost.
/// </summary>
internal sealed class RoomIndex<T>
    where T : class
{
    private readonly ConcurrentDictionary<string, Room<T>> _rooms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Room<T>>.AlternateLookup<ReadOnlySpan<char>> _roomsBySpan;
    private int _count;

    public RoomIndex() => _roomsBySpan = _rooms.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Count => Volatile.Read(ref _count);

    /// <summary>Every room at some moment of the enumeration; for sweeps and metrics, not hot paths.</summary>
    public IEnumerable<Room<T>> Rooms
    {
        get
        {
            foreach (KeyValuePair<string, Room<T>> pair in _rooms)
            {
                yield return pair.Value;
            }
        }
    }

    /// <summary>Adds <paramref name="member"/> to room <paramref name="name"/>, creating the room if needed.</summary>
    public Room<T> Join(string name, T member, out int slot)
    {
        ArgumentNullException.ThrowIfNull(name);
        while (true)
        {
            if (_rooms.TryGetValue(name, out Room<T>? room))
            {
                if (room.TryAdd(member, out slot))
                {
                    return room;
                }

                // Retired but not yet removed by its last leaver: help, then retry.
                RemoveRetired(room);
                continue;
            }

            // The member goes in before the room is published, so no empty room is ever visible.
            var created = new Room<T>(name);
            created.TryAdd(member, out slot);
            if (_rooms.TryAdd(name, created))
            {
                Interlocked.Increment(ref _count);
                return created;
            }
        }
    }

    /// <summary>Removes the member; returns true when this leave emptied the room and retired it.</summary>
    public bool Leave(Room<T> room, int slot)
    {
        ArgumentNullException.ThrowIfNull(room);
        if (!room.RemoveAndRetireIfEmpty(slot))
        {
            return false;
        }

        RemoveRetired(room);
        return true;
    }

    public Room<T>? Find(string name) => _rooms.TryGetValue(name, out Room<T>? room) ? room : null;

    public Room<T>? Find(ReadOnlySpan<char> name) => _roomsBySpan.TryGetValue(name, out Room<T>? room) ? room : null;

    private void RemoveRetired(Room<T> room)
    {
        if (_rooms.TryRemove(new KeyValuePair<string, Room<T>>(room.Name, room)))
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
