using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Rooms;

/// <summary>
/// What a broker applies to the room from other nodes: their members joining, changing and leaving, with the
/// same PRESENCE_DIFF local members would get from a local change. Every method: caller holds <see cref="Sync"/>.
/// </summary>
internal sealed partial class Room
{
    /// <summary>A remote member joined or changed its meta; <paramref name="announce"/>: tell local members.</summary>
    public void ApplyRemoteUpsert(RemoteMember member, bool announce, SendBatch batch)
    {
        _remote ??= new Dictionary<string, RemoteMember>(StringComparer.Ordinal);
        if (_remote.TryGetValue(member.Conn, out RemoteMember? known))
        {
            if (MetaEquals(known.Meta, member.Meta)) return;
            _remote[member.Conn] = member;
            if (announce) SendRemoteDiff(member, known, member.Node, batch);
            return;
        }
        _remote.Add(member.Conn, member);
        AddUser(member.User);
        if (announce) SendRemoteDiff(member, null, member.Node, batch);
    }

    /// <summary>
    /// A remote member left; its <paramref name="willFrame"/> (when it vanished with one) reaches local members first.
    /// <paramref name="origin"/>: the node whose envelope said so (null for a difference a snapshot showed).
    /// </summary>
    public void ApplyRemoteLeave(string conn, byte[]? willFrame, bool announce, string? origin, SendBatch batch)
    {
        if (_remote is null || !_remote.Remove(conn, out RemoteMember? known)) return;
        RemoveUser(known.User);
        if (!announce) return;
        if (willFrame is not null) RoomFanout.DeliverFromChannel(this, willFrame, origin, channelOrdered: false, except: null, batch);
        SendRemoteDiff(null, known, origin, batch);
    }

    /// <summary>Makes the replica equal to <paramref name="target"/> (conn -> member), with a diff per difference when <paramref name="announce"/>.</summary>
    public void ReplaceRemoteMembers(Dictionary<string, RemoteMember> target, bool announce, SendBatch batch)
    {
        if (_remote is not null)
        {
            foreach (RemoteMember known in _remote.Values.ToList())
            {
                if (!target.ContainsKey(known.Conn)) ApplyRemoteLeave(known.Conn, null, announce, origin: null, batch);
            }
        }
        foreach (RemoteMember member in target.Values) ApplyRemoteUpsert(member, announce, batch);
    }

    private void SendRemoteDiff(RemoteMember? joined, RemoteMember? left, string? origin, SendBatch batch)
    {
        FrameBuffer frame = batch.NewFrame();
        MessagePackWriter w = ServerFrames.BeginPresenceDiff(frame, Name, joined is null ? 0 : 1, out int start);
        if (joined is not null) ServerFrames.WriteMember(ref w, joined.User, joined.Conn, joined.Meta, joined.Meta is not null);
        ServerFrames.WriteDiffLeavesHeader(ref w, left is null ? 0 : 1);
        if (left is not null) ServerFrames.WriteMember(ref w, left.User, left.Conn, left.Meta, left.Meta is not null);
        ServerFrames.EndFrame(frame, ref w, start);
        RoomFanout.DeliverFromChannel(this, frame.WrittenSpan, origin, channelOrdered: false, except: null, batch);
    }
}
