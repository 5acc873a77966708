using PresenceD.Server.Expiry;
using PresenceD.Server.History;
using PresenceD.Server.Rooms;

namespace PresenceD.Server.Backplane;

/// <summary>Standalone: one node is the whole cluster, so there is nobody to tell and nobody else to ask.</summary>
internal sealed class MemoryBackplane(HistoryStore history, IClock clock) : IBackplane
{
    public BackplaneHealth Health { get; } = new(clustered: false);

    public string Description => "Memory";

    public void Start()
    {
    }

    public IRoomBroker CreateBroker(Room room) =>
        new LocalRoomBroker(history.Matches(room.Name) ? new MemoryRoomHistory(history, room.Name, clock) : NoHistory.Instance);

    public void SessionStarted(string user, string connId)
    {
    }

    public void SessionEnded(string user, string connId)
    {
    }

    public ISessionLink? SessionLink => null;

    public void SessionMoved(string connId)
    {
    }

    public ValueTask<IReadOnlyList<RemoteMember>?> QueryRoomAsync(string room) => new((IReadOnlyList<RemoteMember>?)[]);

    public ValueTask<IReadOnlyList<string>?> QueryOnlineAsync(IReadOnlyList<string> users) => new((IReadOnlyList<string>?)[]);

    public ValueTask DisposeAsync() => default;

    /// <summary>A room with no other node to reach: ready at once, every change stays here.</summary>
    private sealed class LocalRoomBroker(IRoomHistory history) : IRoomBroker
    {
        public Task Ready => Task.CompletedTask;

        public IRoomHistory History { get; } = history;

        public void Open()
        {
        }

        public void Close()
        {
        }

        public void MemberUpserted(RoomMember member)
        {
        }

        public void MemberLeft(RoomMember member, ReadOnlySpan<byte> willFrame, bool hasWill)
        {
        }

        public bool Forward(ReadOnlySpan<byte> frame) => true;

        // Standalone a session never moves between nodes.
        public void AnnounceCut(string conn)
        {
        }

        public void AcknowledgeCut(string conn)
        {
        }
    }
}
