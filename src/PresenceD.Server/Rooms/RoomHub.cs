using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Expiry;

namespace PresenceD.Server.Rooms;

/// <summary>
/// This node's rooms: name -> <see cref="Room"/>, lock-free to read. A room is created by its first local
/// member, which opens its broker; it is retired by its last, which closes it. Everything else a member does
/// happens on its room.
/// </summary>
internal sealed class RoomHub
{
    private readonly RoomIndex<Room, RoomMember> _index;

    public RoomHub(LiveOptions options, IClock clock, IBackplane backplane)
    {
        Options = options;
        Clock = clock;
        Backplane = backplane;
        _index = new RoomIndex<Room, RoomMember>(name => new Room(name, this));
    }

    public LiveOptions Options { get; }

    public IClock Clock { get; }

    /// <summary>How this node reaches the others; each room's broker comes from it.</summary>
    public IBackplane Backplane { get; }

    public RoomCounters Counters { get; } = new();

    /// <summary>Rooms with local members.</summary>
    public int Count => _index.Count;

    /// <summary>Every room at some moment of the enumeration; for sweeps and metrics, not hot paths.</summary>
    public IEnumerable<Room> Rooms => _index.Rooms;

    public Room? Find(string name) => _index.Find(name);

    public Room? Find(ReadOnlySpan<char> name) => _index.Find(name);

    /// <summary>
    /// Puts <paramref name="member"/> (not visible yet) into room <paramref name="name"/>, creating and opening
    /// the room when it is the first. The JOIN then completes with <see cref="Room.CompleteJoin"/>.
    /// </summary>
    public Room Place(string name, RoomMember member)
    {
        Room room = _index.Join(name, member, out int slot, out bool created);
        member.Room = room;
        member.Slot = slot;
        if (created) room.Broker.Open();
        return room;
    }

    /// <summary>Takes the member out of its room (its will delivered first when asked); the last one out closes the room.</summary>
    public void Leave(RoomMember member, bool deliverWill, SendBatch batch)
    {
        Room room = member.Room;
        room.Leave(member, deliverWill, batch);
        if (_index.Leave(room, member.Slot)) room.Broker.Close();
    }

    /// <summary>
    /// Another node's mark for <paramref name="conn"/> came through <paramref name="room"/>'s channel: a membership departing
    /// from here with its session is released (Room.HandOver.cs), taken out of the room (the last one out closes it), and
    /// its departure told.
    /// </summary>
    public void ReleaseDeparted(Room room, string conn, string toNode)
    {
        RoomMember? member = room.ReleaseDeparted(conn, toNode);
        if (member is null) return;
        if (_index.Leave(room, member.Slot)) room.Broker.Close();
        member.Departure!.RoomReleased(member);
    }
}
