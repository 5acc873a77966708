using System.Buffers;
using PresenceD.Protocol;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>JOIN, LEAVE, UPDATE and PUBLISH: the ops that act on a room this connection is (or becomes) a member of.</summary>
internal sealed partial class Dispatcher
{
    private ValueTask Join(Connection connection, ref ClientRequest request)
    {
        uint rid = request.Rid;
        string? room = RoomName(connection, request.Room, rid);
        if (room is null) return default;
        Session session = connection.Session;
        if (!session.MayAccess(room))
        {
            Reply.Error(connection, rid, ErrorCode.Forbidden, "the credential does not allow this room");
            return default;
        }
        if (MetaTooLarge(connection, ref request, replyOnRidZero: true)) return default;
        byte[]? meta = request.HasMeta ? request.Meta.ToArray() : null;
        byte[]? will = request.HasWill ? request.Will.ToArray() : null;
        var since = new JoinSince(request.HasSince, request.HasSince ? Utf8.GetString(request.SinceEpoch) : "", request.SinceOffset);
        Task? pending;
        RoomMember member;
        lock (session.Sync)
        {
            if (session.Ended) return default;
            RoomMember? existing = session.FindRoom(room);
            if (existing is not null)
            {
                _server.Hub.Rejoin(existing, meta, will, since, rid);
                return default;
            }
            if (session.Rooms.Length >= _server.Options.MaxRoomsPerConnection)
            {
                Reply.Error(connection, rid, ErrorCode.Limit, $"max_rooms_per_connection ({_server.Options.MaxRoomsPerConnection}) reached");
                return default;
            }
            pending = _server.Hub.Join(session, room, meta, will, since, rid, out member);
        }
        return pending is null ? default : _server.Hub.FinishJoinAsync(member, pending, since, rid);
    }

    private void Leave(Connection connection, ref ClientRequest request)
    {
        RoomMember? member = JoinedRoom(connection, ref request, replyOnRidZero: false);
        if (member is null) return;
        lock (connection.Session.Sync)
        {
            if (!connection.Session.Ended) _server.Hub.Leave(member, deliverWill: false);
        }
        Reply.Ok(connection, request.Rid);
    }

    private void Update(Connection connection, ref ClientRequest request)
    {
        RoomMember? member = JoinedRoom(connection, ref request, replyOnRidZero: false);
        if (member is null || MetaTooLarge(connection, ref request, replyOnRidZero: false)) return;
        byte[]? meta = request.HasMeta ? request.Meta.ToArray() : null;
        lock (connection.Session.Sync)
        {
            if (!connection.Session.Ended) _server.Hub.Update(member, meta);
        }
        Reply.Ok(connection, request.Rid);
    }

    private void Publish(Connection connection, ref ClientRequest request)
    {
        RoomMember? member = JoinedRoom(connection, ref request, replyOnRidZero: false);
        if (member is null)
        {
            _server.Metrics.Dropped();
            return;
        }
        ServerOptions options = _server.Options;
        if (!connection.Session.PublishBucket.TryTake(options.PublishRate, options.PublishBurst, _server.Clock.NowMs))
        {
            _server.Metrics.Dropped();
            if (request.Rid != 0) Reply.Error(connection, request.Rid, ErrorCode.Rate, "publish_rate exceeded");
            return;
        }
        int delivered = _server.Hub.Publish(member, request.Payload, out bool crossNodeFailed);
        _server.Metrics.Published(delivered);
        if (!crossNodeFailed)
        {
            Reply.Ok(connection, request.Rid);
            return;
        }
        _server.Metrics.Dropped();
        if (request.Rid != 0) Reply.Error(connection, request.Rid, ErrorCode.Degraded, "backplane unavailable: delivered to this node's members only");
    }

    /// <summary>The membership named by the request's room, or null after answering NOT_JOINED (or a name error).</summary>
    private RoomMember? JoinedRoom(Connection connection, ref ClientRequest request, bool replyOnRidZero)
    {
        if (NameRules.Check(request.Room, _server.Options.NameMax) != ErrorCode.None)
        {
            RoomName(connection, request.Room, request.Rid, replyOnRidZero);
            return null;
        }
        // Match against the joined rooms' names without making a string: decode onto the stack (names are short).
        int length = (int)request.Room.Length;
        char[]? rented = length > 256 ? System.Buffers.ArrayPool<char>.Shared.Rent(length) : null;
        Span<char> chars = rented ?? stackalloc char[256];
        int written = System.Text.EncodingExtensions.GetChars(System.Text.Encoding.UTF8, request.Room, chars);
        RoomMember? member = connection.Session.FindRoom(chars[..written]);
        if (rented is not null) System.Buffers.ArrayPool<char>.Shared.Return(rented);
        if (member is null && (request.Rid != 0 || replyOnRidZero))
        {
            Reply.Error(connection, request.Rid, ErrorCode.NotJoined, "not joined to this room");
        }
        return member;
    }
}
