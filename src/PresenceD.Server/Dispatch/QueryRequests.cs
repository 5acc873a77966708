using PresenceD.Protocol;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>PRESENCE, COUNT and ONLINE: read-only questions, answered without joining.</summary>
internal sealed partial class Dispatcher
{
    private void Presence(Connection connection, ref ClientRequest request)
    {
        uint rid = request.Rid;
        string? roomName = RoomName(connection, request.Room, rid);
        if (roomName is null) return;
        if (!connection.Session.MayAccess(roomName))
        {
            Reply.Error(connection, rid, ErrorCode.Forbidden, "the credential does not allow this room");
            return;
        }
        int max = _server.Options.PresenceLimit;
        int limit = request.HasLimit ? (int)Math.Min(request.Limit, (uint)max) : max;
        Room<RoomMember>? room = _server.Hub.Index.Find(roomName);
        RoomPresence? presence = room is null ? null : _server.Hub.PresenceOf(room);
        if (presence is null)
        {
            connection.Reply((rid, roomName), static (output, s) =>
            {
                MessagePackWriter w = ServerFrames.BeginPresenceState(output, s.rid, s.roomName, 0, out int start);
                ServerFrames.EndPresenceState(output, ref w, start, 0);
            });
            return;
        }
        // Under the presence lock the visible set cannot change, so the header count matches what is written.
        lock (presence.Sync)
        {
            connection.Reply((rid, roomName, room: room!, presence, limit), static (output, s) =>
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
                ServerFrames.EndPresenceState(output, ref w, start, total);
            });
        }
    }

    private void Count(Connection connection, ref ClientRequest request)
    {
        uint rid = request.Rid;
        string? roomName = RoomName(connection, request.Room, rid);
        if (roomName is null) return;
        if (!connection.Session.MayAccess(roomName))
        {
            Reply.Error(connection, rid, ErrorCode.Forbidden, "the credential does not allow this room");
            return;
        }
        Room<RoomMember>? room = _server.Hub.Index.Find(roomName);
        RoomPresence? presence = room is null ? null : _server.Hub.PresenceOf(room);
        long connections = presence?.Connections ?? 0;
        long users = presence?.Users ?? 0;
        connection.Reply((rid, roomName, connections, users), static (output, s) => ServerFrames.CountState(output, s.rid, s.roomName, s.connections, s.users));
    }

    private void Online(Connection connection, ref ClientRequest request)
    {
        uint rid = request.Rid;
        if (request.UserCount > _server.Options.OnlineMax)
        {
            Reply.Error(connection, rid, ErrorCode.BadRequest, $"at most {_server.Options.OnlineMax} users per ONLINE");
            return;
        }
        var online = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (System.Buffers.ReadOnlySequence<byte> user in request.EnumerateUsers())
        {
            if (NameRules.Check(user, _server.Options.NameMax) != ErrorCode.None) continue;
            string name = Utf8.GetString(user);
            if (seen.Add(name) && _server.OnlineUsers.IsOnline(name)) online.Add(name);
        }
        connection.Reply((rid, online), static (output, s) =>
        {
            MessagePackWriter w = ServerFrames.BeginOnlineState(output, s.rid, s.online.Count, out int start);
            foreach (string user in s.online) w.WriteString(user);
            ServerFrames.EndFrame(output, ref w, start);
        });
    }
}
