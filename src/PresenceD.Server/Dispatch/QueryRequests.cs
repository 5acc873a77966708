using PresenceD.Protocol;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>
/// PRESENCE, COUNT and ONLINE: read-only questions, answered without joining. A room this node holds is
/// answered from its local members and its replica of the other nodes' members; any other room, and ONLINE,
/// is asked of the backplane too (standalone it knows of nobody else at once; in a cluster Redis answers
/// within redis_timeout, and when it cannot, the reply holds what this node knows).
/// </summary>
internal sealed partial class Dispatcher
{
    private ValueTask Presence(Session session, ref ClientRequest request, SendBatch batch)
    {
        Connection connection = session.Connection;
        uint rid = request.Rid;
        string? roomName = RoomName(connection, request.Room, rid, batch);
        if (roomName is null) return default;
        if (!session.MayAccess(roomName))
        {
            Error(connection, rid, ErrorCode.Forbidden, "the credential does not allow this room", batch);
            return default;
        }
        int max = Options.PresenceLimit;
        int limit = request.HasLimit ? (int)Math.Min(request.Limit, (uint)max) : max;
        if (_hub.Find(roomName) is { IsReady: true } room)
        {
            PresenceFromRoom(connection, rid, room, limit, batch);
            return default;
        }
        ValueTask<IReadOnlyList<RemoteMember>?> asked = Backplane.QueryRoomAsync(roomName);
        if (!asked.IsCompletedSuccessfully) return PresenceLaterAsync(connection, rid, roomName, limit, asked);
        PresenceReply(connection, rid, roomName, asked.Result ?? [], limit, batch);
        return default;
    }

    private static void PresenceFromRoom(Connection connection, uint rid, Room room, int limit, SendBatch batch)
    {
        // Under the room's lock the visible set cannot change, so the header count matches what is written.
        lock (room.Sync)
        {
            connection.Reply((rid, room, limit), static (output, s) =>
            {
                int total = s.room.Connections;
                int listed = Math.Min(total, s.limit);
                MessagePackWriter w = ServerFrames.BeginPresenceState(output, s.rid, s.room.Name, listed, out int start);
                s.room.WriteMembers(ref w, listed, except: null);
                ServerFrames.EndPresenceState(output, ref w, start, total);
            }, batch);
        }
    }

    private static async ValueTask PresenceLaterAsync(Connection connection, uint rid, string roomName, int limit, ValueTask<IReadOnlyList<RemoteMember>?> asked)
    {
        IReadOnlyList<RemoteMember> members = await asked.ConfigureAwait(false) ?? [];
        using SendBatch batch = SendBatch.Open(); // this continuation is an entry point of its own
        PresenceReply(connection, rid, roomName, members, limit, batch);
    }

    private static void PresenceReply(Connection connection, uint rid, string roomName, IReadOnlyList<RemoteMember> members, int limit, SendBatch batch)
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
        }, batch);
    }

    private ValueTask Count(Session session, ref ClientRequest request, SendBatch batch)
    {
        Connection connection = session.Connection;
        uint rid = request.Rid;
        string? roomName = RoomName(connection, request.Room, rid, batch);
        if (roomName is null) return default;
        if (!session.MayAccess(roomName))
        {
            Error(connection, rid, ErrorCode.Forbidden, "the credential does not allow this room", batch);
            return default;
        }
        if (_hub.Find(roomName) is { IsReady: true } room)
        {
            CountReply(connection, rid, roomName, room.Connections, room.Users, batch);
            return default;
        }
        ValueTask<IReadOnlyList<RemoteMember>?> asked = Backplane.QueryRoomAsync(roomName);
        if (!asked.IsCompletedSuccessfully) return CountLaterAsync(connection, rid, roomName, asked);
        CountMembers(connection, rid, roomName, asked.Result ?? [], batch);
        return default;
    }

    private static async ValueTask CountLaterAsync(Connection connection, uint rid, string roomName, ValueTask<IReadOnlyList<RemoteMember>?> asked)
    {
        IReadOnlyList<RemoteMember> members = await asked.ConfigureAwait(false) ?? [];
        using SendBatch batch = SendBatch.Open();
        CountMembers(connection, rid, roomName, members, batch);
    }

    private static void CountMembers(Connection connection, uint rid, string roomName, IReadOnlyList<RemoteMember> members, SendBatch batch) =>
        CountReply(connection, rid, roomName, members.Count, members.Select(m => m.User).Distinct(StringComparer.Ordinal).Count(), batch);

    private static void CountReply(Connection connection, uint rid, string roomName, long connections, long users, SendBatch batch) =>
        connection.Reply((rid, roomName, connections, users), static (output, s) => ServerFrames.CountState(output, s.rid, s.roomName, s.connections, s.users), batch);

    private ValueTask Online(Session session, ref ClientRequest request, SendBatch batch)
    {
        Connection connection = session.Connection;
        uint rid = request.Rid;
        if (request.UserCount > Options.OnlineMax)
        {
            Error(connection, rid, ErrorCode.BadRequest, $"at most {Options.OnlineMax} users per ONLINE", batch);
            return default;
        }
        var asked = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (System.Buffers.ReadOnlySequence<byte> user in request.EnumerateUsers())
        {
            if (NameRules.Check(user, Options.NameMax) != ErrorCode.None) continue;
            string name = Utf8.GetString(user);
            // A user this session may not see is not even looked up: it is answered as offline, like any offline user.
            if (seen.Add(name) && session.Visibility.MaySee(session, name)) asked.Add(name);
        }
        ValueTask<IReadOnlyList<string>?> elsewhere = Backplane.QueryOnlineAsync(asked);
        if (!elsewhere.IsCompletedSuccessfully) return OnlineLaterAsync(connection, rid, asked, elsewhere);
        OnlineReply(connection, rid, asked, elsewhere.Result, batch);
        return default;
    }

    private async ValueTask OnlineLaterAsync(Connection connection, uint rid, List<string> asked, ValueTask<IReadOnlyList<string>?> elsewhere)
    {
        IReadOnlyList<string>? online = await elsewhere.ConfigureAwait(false);
        using SendBatch batch = SendBatch.Open();
        OnlineReply(connection, rid, asked, online, batch);
    }

    /// <summary>ONLINE_STATE: the asked users online elsewhere or here (this node's own count even when their online write is still queued behind the query).</summary>
    private void OnlineReply(Connection connection, uint rid, List<string> asked, IReadOnlyList<string>? elsewhere, SendBatch batch)
    {
        HashSet<string>? remote = elsewhere is { Count: > 0 } ? new HashSet<string>(elsewhere, StringComparer.Ordinal) : null;
        List<string> online = asked.Where(u => (remote is not null && remote.Contains(u)) || _online.IsOnline(u)).ToList();
        connection.Reply((rid, online), static (output, s) =>
        {
            MessagePackWriter w = ServerFrames.BeginOnlineState(output, s.rid, s.online.Count, out int start);
            foreach (string user in s.online) w.WriteString(user);
            ServerFrames.EndFrame(output, ref w, start);
        }, batch);
    }
}
