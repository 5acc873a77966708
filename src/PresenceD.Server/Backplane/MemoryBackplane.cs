using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Backplane;

/// <summary>Standalone: one node is the whole cluster, so there is nothing to tell anyone.</summary>
internal sealed class MemoryBackplane : IBackplane
{
    public bool IsClustered => false;

    public BackplaneHealth Health { get; } = new(clustered: false);

    public void Start()
    {
    }

    public void OpenRoom(string room, RoomPresence presence) => presence.MarkReady();

    public void CloseRoom(string room, RoomPresence presence)
    {
    }

    public void SessionStarted(Session session)
    {
    }

    public void SessionEnded(Session session)
    {
    }

    public void MemberUpserted(RoomMember member)
    {
    }

    public void MemberLeft(RoomMember member, ReadOnlySpan<byte> willFrame, bool hasWill)
    {
    }

    public bool PublishMessage(RoomPresence presence, string room, ReadOnlySpan<byte> frame) => true;

    public bool PublishHistoryMessage(RoomPresence presence, ReadOnlySpan<byte> frameWithoutOffset) => false;

    public ValueTask<HistoryRead?> ReadHistoryAsync(RoomPresence presence, long from) => new((HistoryRead?)null);

    public ValueTask<IReadOnlyList<RemoteMember>?> QueryRoomAsync(string room) => new((IReadOnlyList<RemoteMember>?)null);

    public ValueTask<IReadOnlyList<string>?> QueryOnlineAsync(IReadOnlyList<string> users) => new((IReadOnlyList<string>?)null);

    public ValueTask DisposeAsync() => default;
}
