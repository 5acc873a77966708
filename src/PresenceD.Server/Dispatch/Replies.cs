using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Dispatch;

/// <summary>The small replies, queued to the connection that asked.</summary>
internal static class Replies
{
    public static void Ok(Connection connection, uint rid, SendBatch batch)
    {
        if (rid != 0) connection.Reply(rid, static (output, r) => ServerFrames.Ok(output, r), batch);
    }

    public static void Pong(Connection connection, uint rid, SendBatch batch) =>
        connection.Reply(rid, static (output, r) => ServerFrames.Pong(output, r), batch);

    /// <summary>ERROR (count it with <see cref="DispatchCounters.CountError"/>: the dispatcher's Error does both).</summary>
    public static void Error(Connection connection, uint rid, ErrorCode code, string message, SendBatch batch) =>
        connection.Reply((rid, code, message), static (output, s) => ServerFrames.Error(output, s.rid, s.code, s.message), batch);
}
