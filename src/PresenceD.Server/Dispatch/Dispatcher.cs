using System.Buffers;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;
using PresenceD.Server.Hosting;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>
/// Runs one decoded client frame on the connection's receive loop. The opcode switch lives here and
/// nowhere else; each op's handling is in the partial files beside it (HELLO, room ops, queries).
/// </summary>
internal sealed partial class Dispatcher
{
    private readonly ServerContext _server;

    public Dispatcher(ServerContext server) => _server = server;

    /// <summary>
    /// Runs one request. Completes synchronously except when a cluster question must wait for Redis (JOIN of
    /// a room this node does not hold yet, PRESENCE, COUNT, ONLINE): the receive loop then awaits it before
    /// the next frame, so replies keep request order. PUBLISH never waits.
    /// </summary>
    public ValueTask Dispatch(Connection connection, ref ClientRequest request)
    {
        Session session = connection.Session;
        if (!session.HelloDone)
        {
            if (request.Op == OpCode.Hello) Hello(connection, ref request);
            else connection.ProtocolViolation(CloseReason.ProtocolError, $"{request.Op} before HELLO", default);
            return default;
        }
        switch (request.Op)
        {
            case OpCode.Publish: Publish(connection, ref request); break;
            case OpCode.Ping: Reply.Pong(connection, request.Rid); break;
            case OpCode.Join: return Join(connection, ref request);
            case OpCode.Leave: Leave(connection, ref request); break;
            case OpCode.Update: Update(connection, ref request); break;
            case OpCode.Presence: return Presence(connection, ref request);
            case OpCode.Count: return Count(connection, ref request);
            case OpCode.Online: return Online(connection, ref request);
            case OpCode.Bye: connection.RequestClose(CloseReason.Bye); break;
            case OpCode.Hello: connection.ProtocolViolation(CloseReason.ProtocolError, "HELLO repeated", default); break;
            default: connection.ProtocolViolation(CloseReason.ProtocolError, $"unknown op {(int)request.Op}", default); break;
        }
        return default;
    }

    /// <summary>
    /// Checks a room name and turns it into a string; on failure answers ERROR (when rid != 0 or the op
    /// always replies) and returns null.
    /// </summary>
    private string? RoomName(Connection connection, in ReadOnlySequence<byte> room, uint rid, bool replyOnRidZero = true)
    {
        ErrorCode check = NameRules.Check(room, _server.Options.NameMax);
        if (check != ErrorCode.None)
        {
            if (rid != 0 || replyOnRidZero) Reply.Error(connection, rid, check, check == ErrorCode.TooLarge ? "room name too long" : "invalid room name");
            return null;
        }
        return Protocol.MessagePack.Utf8.GetString(room);
    }

    /// <summary>True (after answering TOO_LARGE, unless rid 0 asks for no reply) when meta is over meta_max.</summary>
    private bool MetaTooLarge(Connection connection, ref ClientRequest request, bool replyOnRidZero)
    {
        if (!request.HasMeta || request.Meta.Length <= _server.Options.MetaMax) return false;
        if (request.Rid != 0 || replyOnRidZero)
        {
            Reply.Error(connection, request.Rid, ErrorCode.TooLarge, $"meta over meta_max ({_server.Options.MetaMax} bytes)");
        }
        return true;
    }
}
