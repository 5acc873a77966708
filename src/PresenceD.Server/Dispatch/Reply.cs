using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Dispatch;

/// <summary>The small replies, queued to the connection that asked.</summary>
internal static class Reply
{
    public static void Ok(Connection connection, uint rid)
    {
        if (rid != 0) connection.Reply(rid, static (output, r) => ServerFrames.Ok(output, r));
    }

    public static void Pong(Connection connection, uint rid) => connection.Reply(rid, static (output, r) => ServerFrames.Pong(output, r));

    public static void Error(Connection connection, uint rid, ErrorCode code, string message)
    {
        connection.Server.Metrics.ErrorSent(code);
        connection.Reply((rid, code, message), static (output, s) => ServerFrames.Error(output, s.rid, s.code, s.message));
    }
}
