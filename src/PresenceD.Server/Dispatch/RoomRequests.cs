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
    // A joiner's history read is retried while the room delivered newer messages meanwhile; after this many
    // reads it joins without recovery, so a room under a constant stream cannot hold a JOIN forever.
    private const int JoinReadAttempts = 3;

    private ValueTask Join(Session session, ref ClientRequest request, SendBatch batch)
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
        if (MetaTooLarge(connection, ref request, replyOnRidZero: true, batch)) return default;
        byte[]? meta = request.HasMeta ? request.Meta.ToArray() : null;
        byte[]? will = request.HasWill ? request.Will.ToArray() : null;
        var since = new JoinSince(request.HasSince, request.HasSince ? Utf8.GetString(request.SinceEpoch) : "", request.SinceOffset);
        RoomMember member;
        lock (session.Sync)
        {
            if (session.Ended) return default;
            RoomMember? existing = session.FindRoom(roomName);
            if (existing is not null)
            {
                if (existing.Room.History.EpochUnknown) return FinishRejoinAsync(session, existing, meta, will, rid);
                existing.Room.Rejoin(existing, meta, will, since, read: null, rid, batch);
                return default;
            }
            if (session.Rooms.Length >= Options.MaxRoomsPerConnection)
            {
                Error(connection, rid, ErrorCode.Limit, $"max_rooms_per_connection ({Options.MaxRoomsPerConnection}) reached", batch);
                return default;
            }
            member = new RoomMember(connection, session.User, session.ConnId) { Meta = meta, Will = will };
            Room room = _hub.Place(roomName, member);
            session.AddRoom(member);
            if (room.IsReady && !room.History.ReadsBeforeJoin)
            {
                room.CompleteJoin(member, since, rid, read: null, lastTry: true, batch);
                return default;
            }
        }
        return FinishJoinAsync(session, member, since, rid);
    }

    /// <summary>
    /// The rest of a JOIN that waits: for the room's remote members and, for a history kept in Redis, for a read
    /// of it; read again when the room delivered newer messages meanwhile.
    /// </summary>
    private async ValueTask FinishJoinAsync(Session session, RoomMember member, JoinSince since, uint rid)
    {
        Room room = member.Room;
        await room.Broker.Ready.ConfigureAwait(false);
        for (int attempt = 1; ; attempt++)
        {
            HistoryRead? read = await room.History.ReadForJoinAsync(since).ConfigureAwait(false);
            using SendBatch batch = SendBatch.Open();
            lock (session.Sync)
            {
                if (session.Ended) return;
                if (room.CompleteJoin(member, since, rid, read, lastTry: attempt == JoinReadAttempts, batch)) return;
            }
        }
    }

    /// <summary>
    /// A re-JOIN of a history room whose epoch this node does not know yet (the member joined while Redis could not
    /// be read): reads the history first, so the JOINED names the epoch when Redis answers.
    /// </summary>
    private async ValueTask FinishRejoinAsync(Session session, RoomMember member, byte[]? meta, byte[]? will, uint rid)
    {
        HistoryRead? read = await member.Room.History.ReadForJoinAsync(default).ConfigureAwait(false);
        using SendBatch batch = SendBatch.Open();
        lock (session.Sync)
        {
            // The receive path awaits this JOIN before the connection's next request, so only the session's end can
            // have taken the member away meanwhile (nothing to answer then).
            if (session.Ended || !ReferenceEquals(session.FindRoom(member.Room.Name), member)) return;
            member.Room.Rejoin(member, meta, will, since: default, read, rid, batch);
        }
    }

    private void Leave(Session session, ref ClientRequest request, SendBatch batch)
    {
        RoomMember? member = JoinedRoom(session, ref request, replyOnRidZero: false, batch);
        if (member is null) return;
        lock (session.Sync)
        {
            if (!session.Ended)
            {
                _hub.Leave(member, deliverWill: false, batch);
                session.RemoveRoom(member);
            }
        }
        Replies.Ok(session.Connection, request.Rid, batch);
    }

    private void Update(Session session, ref ClientRequest request, SendBatch batch)
    {
        RoomMember? member = JoinedRoom(session, ref request, replyOnRidZero: false, batch);
        if (member is null || MetaTooLarge(session.Connection, ref request, replyOnRidZero: false, batch)) return;
        byte[]? meta = request.HasMeta ? request.Meta.ToArray() : null;
        lock (session.Sync)
        {
            if (!session.Ended) member.Room.Update(member, meta, batch);
        }
        Replies.Ok(session.Connection, request.Rid, batch);
    }

    private void Publish(Session session, ref ClientRequest request, SendBatch batch)
    {
        RoomMember? member = JoinedRoom(session, ref request, replyOnRidZero: false, batch);
        if (member is null)
        {
            Counters.CountDropped();
            return;
        }
        ServerOptions options = Options;
        if (!session.PublishBucket.TryTake(options.PublishRate, options.PublishBurst, _clock.NowMs))
        {
            Counters.CountDropped();
            if (request.Rid != 0) Error(session.Connection, request.Rid, ErrorCode.Rate, "publish_rate exceeded", batch);
            return;
        }
        bool reachedEveryNode = member.Room.Publish(member, request.Payload, batch);
        Counters.CountPublish();
        if (reachedEveryNode)
        {
            Replies.Ok(session.Connection, request.Rid, batch);
            return;
        }
        Counters.CountDropped();
        if (request.Rid != 0) Error(session.Connection, request.Rid, ErrorCode.Degraded, "backplane unavailable: delivered to this node's members only", batch);
    }

    /// <summary>The membership named by the request's room, or null after answering NOT_JOINED (or a name error).</summary>
    private RoomMember? JoinedRoom(Session session, ref ClientRequest request, bool replyOnRidZero, SendBatch batch)
    {
        if (NameRules.Check(request.Room, Options.NameMax) != ErrorCode.None)
        {
            RoomName(session.Connection, request.Room, request.Rid, batch, replyOnRidZero);
            return null;
        }
        // Match against the joined rooms' names without making a string: decode onto the stack (names are short).
        int length = (int)request.Room.Length;
        char[]? rented = length > 256 ? System.Buffers.ArrayPool<char>.Shared.Rent(length) : null;
        Span<char> chars = rented ?? stackalloc char[256];
        int written = System.Text.EncodingExtensions.GetChars(System.Text.Encoding.UTF8, request.Room, chars);
        RoomMember? member = session.FindRoom(chars[..written]);
        if (rented is not null) System.Buffers.ArrayPool<char>.Shared.Return(rented);
        if (member is null && (request.Rid != 0 || replyOnRidZero))
        {
            Error(session.Connection, request.Rid, ErrorCode.NotJoined, "not joined to this room", batch);
        }
        return member;
    }
}
