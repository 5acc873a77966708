using PresenceD.Protocol;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Backplane;
using PresenceD.Server.Connections;
using PresenceD.Server.Fanout;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>
/// PRESENCE, COUNT and ONLINE: read-only questions, answered without joining. A room this node holds is
/// answered from its local members and its replica of the other nodes' members; any other room, and
/// ONLINE, asks Redis in a cluster (bounded by redis_timeout; when Redis cannot answer, what this node knows).
/// </summary>
internal sealed partial class Dispatcher
{
    private ValueTask Presence(Connection connection, ref ClientRequest request)
    {
        uint rid = request.Rid;
        string? roomName = RoomName(connection, request.Room, rid);
        if (roomName is null) return default;
        if (!connection.Session.MayAccess(roomName))
        {
            Reply.Error(connection, rid, ErrorCode.Forbidden, "the credential does not allow this room");
            return default;
        }
        int max = _server.Options.PresenceLimit;
        int limit = request.HasLimit ? (int)Math.Min(request.Limit, (uint)max) : max;
        Room<RoomMember>? room = _server.Hub.Index.Find(roomName);
        if (room?.State is RoomPresence { IsReady: true } presence)
        {
            PresenceFromLocal(connection, rid, roomName, room, presence, limit);
            return default;
        }
        if (_server.Backplane.IsClustered) return PresenceFromBackplaneAsync(connection, rid, roomName, limit);
        PresenceReply(connection, rid, roomName, [], limit);
        return default;
    }

    private static void PresenceFromLocal(Connection connection, uint rid, string roomName, Room<RoomMember> room, RoomPresence presence, int limit)
    {
        // Under the presence lock the visible set cannot change, so the header count matches what is written.
        lock (presence.Sync)
        {
            connection.Reply((rid, roomName, room, presence, limit), static (output, s) =>
            {
                int total = s.presence.Connections;
                int listed = Math.Min(total, s.limit);
                MessagePackWriter w = ServerFrames.BeginPresenceState(output, s.rid, s.roomName, listed, out int start);
                int written = 0;
                foreach (RoomMember m in s.room.Members)
                {
                    if (written == listed) break;
                    if (!m.Visible) continue;
                    ServerFrames.WriteMember(ref w, m.Session.User, m.Session.ConnId, m.Meta, m.Meta is not null);
                    written++;
                }
                foreach (RemoteMember m in s.presence.Remote.Values)
                {
                    if (written == listed) break;
                    ServerFrames.WriteMember(ref w, m.User, m.Conn, m.Meta, m.Meta is not null);
                    written++;
                }
                ServerFrames.EndPresenceState(output, ref w, start, total);
            });
        }
    }

    private async ValueTask PresenceFromBackplaneAsync(Connection connection, uint rid, string roomName, int limit)
    {
        IReadOnlyList<RemoteMember> members = await _server.Backplane.QueryRoomAsync(roomName).ConfigureAwait(false) ?? [];
        PresenceReply(connection, rid, roomName, members, limit);
        FlushBatch.Current.Flush(); // this continuation may run on another thread than the receive loop
    }

    private static void PresenceReply(Connection connection, uint rid, string roomName, IReadOnlyList<RemoteMember> members, int limit)
    {
        connection.Reply((rid, roomName, members, limit), static (output, s) =>
        {
            int listed = Math.Min(s.members.Count, s.limit);
            MessagePackWriter w = ServerFrames.BeginPresenceState(output, s.rid, s.roomName, listed, out int start);
            for (int i = 0; i < listed; i++)
            {
                RemoteMember m = s.members[i];
                ServerFrames.WriteMember(ref w, m.User, m.Conn, m.Meta, m.Meta is not null);
            }
            ServerFrames.EndPresenceState(output, ref w, start, s.members.Count);
        });
    }

    private ValueTask Count(Connection connection, ref ClientRequest request)
    {
        uint rid = request.Rid;
        string? roomName = RoomName(connection, request.Room, rid);
        if (roomName is null) return default;
        if (!connection.Session.MayAccess(roomName))
        {
            Reply.Error(connection, rid, ErrorCode.Forbidden, "the credential does not allow this room");
            return default;
        }
        Room<RoomMember>? room = _server.Hub.Index.Find(roomName);
        RoomPresence? presence = room?.State as RoomPresence;
        if (presence is not { IsReady: true } && _server.Backplane.IsClustered) return CountFromBackplaneAsync(connection, rid, roomName);
        long connections = presence?.Connections ?? 0;
        long users = presence?.Users ?? 0;
        CountReply(connection, rid, roomName, connections, users);
        return default;
    }

    private async ValueTask CountFromBackplaneAsync(Connection connection, uint rid, string roomName)
    {
        IReadOnlyList<RemoteMember> members = await _server.Backplane.QueryRoomAsync(roomName).ConfigureAwait(false) ?? [];
        CountReply(connection, rid, roomName, members.Count, members.Select(m => m.User).Distinct(StringComparer.Ordinal).Count());
        FlushBatch.Current.Flush();
    }

    private static void CountReply(Connection connection, uint rid, string roomName, long connections, long users) =>
        connection.Reply((rid, roomName, connections, users), static (output, s) => ServerFrames.CountState(output, s.rid, s.roomName, s.connections, s.users));

    private ValueTask Online(Connection connection, ref ClientRequest request)
    {
        uint rid = request.Rid;
        if (request.UserCount > _server.Options.OnlineMax)
        {
            Reply.Error(connection, rid, ErrorCode.BadRequest, $"at most {_server.Options.OnlineMax} users per ONLINE");
            return default;
        }
        var asked = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (System.Buffers.ReadOnlySequence<byte> user in request.EnumerateUsers())
        {
            if (NameRules.Check(user, _server.Options.NameMax) != ErrorCode.None) continue;
            string name = Utf8.GetString(user);
            if (seen.Add(name)) asked.Add(name);
        }
        if (_server.Backplane.IsClustered && asked.Count > 0) return OnlineFromBackplaneAsync(connection, rid, asked);
        OnlineReply(connection, rid, asked.Where(u => _server.OnlineUsers.IsOnline(u)).ToList());
        return default;
    }

    private async ValueTask OnlineFromBackplaneAsync(Connection connection, uint rid, List<string> asked)
    {
        IReadOnlyList<string>? cluster = await _server.Backplane.QueryOnlineAsync(asked).ConfigureAwait(false);
        var online = cluster is null ? new HashSet<string>(StringComparer.Ordinal) : new HashSet<string>(cluster, StringComparer.Ordinal);
        // This node's own users count even when their online write is still queued behind the query.
        OnlineReply(connection, rid, asked.Where(u => online.Contains(u) || _server.OnlineUsers.IsOnline(u)).ToList());
        FlushBatch.Current.Flush();
    }

    private static void OnlineReply(Connection connection, uint rid, List<string> online) =>
        connection.Reply((rid, online), static (output, s) =>
        {
            MessagePackWriter w = ServerFrames.BeginOnlineState(output, s.rid, s.online.Count, out int start);
            foreach (string user in s.online) w.WriteString(user);
            ServerFrames.EndFrame(output, ref w, start);
        });
}
