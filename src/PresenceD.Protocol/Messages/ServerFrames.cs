using System.Collections.Generic;
using System;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;

namespace PresenceD.Protocol.Messages;

/// <summary>
/// Encoders for server-to-client frames (PROTOCOL.md), each a whole length-prefixed frame. Frames that
/// carry member lists are written in three steps (Begin, one <see cref="WriteMember"/> per member, End)
/// so the caller can walk its own member storage without building a list.
/// </summary>
public static class ServerFrames
{
    /// <summary>WELCOME [64, rid, user, conn, node, heartbeat_ms, timeout_ms, max_frame], to a HELLO that asked for no resumable session.</summary>
    public static void Welcome(FrameBuffer output, uint rid, string user, string conn, string node, long heartbeatMs, long timeoutMs, int maxFrame)
    {
        int start = output.BeginFrame();
        WelcomeFields(output, 8, rid, user, conn, node, heartbeatMs, timeoutMs, maxFrame, 0);
        output.EndFrame(start);
    }

    /// <summary>
    /// WELCOME [64, rid, user, conn, node, heartbeat_ms, timeout_ms, max_frame, resume_token, resume_window_ms, resumed], to a
    /// HELLO that asked for a resumable session (token "" and window 0 when the server offers none).
    /// </summary>
    public static void Welcome(FrameBuffer output, uint rid, string user, string conn, string node, long heartbeatMs, long timeoutMs, int maxFrame,
        string resumeToken, long resumeWindowMs, bool resumed) =>
        Welcome(output, rid, user, conn, node, heartbeatMs, timeoutMs, maxFrame, resumeToken, resumeWindowMs, resumed, features: null);

    /// <summary>
    /// WELCOME with its resume fields and, when <paramref name="features"/> is not null (HELLO sent features), a twelfth
    /// element: the <see cref="ProtocolFeatures"/> bits both sides know.
    /// </summary>
    public static void Welcome(FrameBuffer output, uint rid, string user, string conn, string node, long heartbeatMs, long timeoutMs, int maxFrame,
        string resumeToken, long resumeWindowMs, bool resumed, uint? features) =>
        Welcome(output, rid, user, conn, node, heartbeatMs, timeoutMs, maxFrame, resumeToken, resumeWindowMs, resumed, features, left: null);

    /// <summary>
    /// WELCOME with its resume fields, the features when <paramref name="features"/> is not null (HELLO sent features), and,
    /// when <paramref name="left"/> is not empty (a resume whose new token no longer allows rooms the session was in),
    /// a thirteenth element: those rooms, as an array of str; the twelfth is then 0 when HELLO sent no features.
    /// </summary>
    public static void Welcome(FrameBuffer output, uint rid, string user, string conn, string node, long heartbeatMs, long timeoutMs, int maxFrame,
        string resumeToken, long resumeWindowMs, bool resumed, uint? features, IReadOnlyList<string>? left)
    {
        bool hasLeft = left is { Count: > 0 };
        int start = output.BeginFrame();
        WelcomeFields(output, hasLeft ? 13 : features is null ? 11 : 12, rid, user, conn, node, heartbeatMs, timeoutMs, maxFrame, 24 + resumeToken.Length);
        var w = new MessagePackWriter(output, 24 + resumeToken.Length);
        w.WriteString(resumeToken);
        w.WriteInt64(resumeWindowMs);
        w.WriteBoolean(resumed);
        if (features is not null || hasLeft) w.WriteUInt64(features ?? 0);
        if (hasLeft)
        {
            w.WriteArrayHeader(left!.Count);
            foreach (string room in left) w.WriteString(room);
        }
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>The array header of <paramref name="count"/> and WELCOME's eight version-1 fields.</summary>
    private static void WelcomeFields(FrameBuffer output, int count, uint rid, string user, string conn, string node, long heartbeatMs, long timeoutMs, int maxFrame, int extra)
    {
        var w = new MessagePackWriter(output, 64 + user.Length * 3 + conn.Length + node.Length + extra);
        w.WriteArrayHeader(count);
        w.WriteUInt64((ulong)OpCode.Welcome);
        w.WriteUInt64(rid);
        w.WriteString(user);
        w.WriteString(conn);
        w.WriteString(node);
        w.WriteInt64(heartbeatMs);
        w.WriteInt64(timeoutMs);
        w.WriteInt64(maxFrame);
        w.Flush();
    }

    /// <summary>REFRESHED, first part: [75, rid, exp, left-header. Write each room left with WriteString, then <see cref="EndFrame"/>.</summary>
    public static MessagePackWriter BeginRefreshed(FrameBuffer output, uint rid, long exp, int leftCount, out int start)
    {
        start = output.BeginFrame();
        var w = new MessagePackWriter(output, 24 + leftCount * 16);
        w.WriteArrayHeader(4);
        w.WriteUInt64((ulong)OpCode.Refreshed);
        w.WriteUInt64(rid);
        w.WriteInt64(exp);
        w.WriteArrayHeader(leftCount);
        return w;
    }

    /// <summary>OK [65, rid].</summary>
    public static void Ok(FrameBuffer output, uint rid) => OpRid(output, OpCode.Ok, rid);

    /// <summary>PONG [72, rid].</summary>
    public static void Pong(FrameBuffer output, uint rid) => OpRid(output, OpCode.Pong, rid);

    /// <summary>ERROR [66, rid, code, message].</summary>
    public static void Error(FrameBuffer output, uint rid, ErrorCode code, string message)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 16 + message.Length * 3);
        w.WriteArrayHeader(4);
        w.WriteUInt64((ulong)OpCode.Error);
        w.WriteUInt64(rid);
        w.WriteUInt64((ulong)code);
        w.WriteString(message);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>GOAWAY [73, code, message, reconnect_ms].</summary>
    public static void GoAway(FrameBuffer output, ErrorCode code, string message, long reconnectMs)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 24 + message.Length * 3);
        w.WriteArrayHeader(4);
        w.WriteUInt64((ulong)OpCode.GoAway);
        w.WriteUInt64((ulong)code);
        w.WriteString(message);
        w.WriteInt64(reconnectMs);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>MESSAGE [70, room, from_user, from_conn, payload, offset].</summary>
    public static void Message(FrameBuffer output, string room, string fromUser, string fromConn, ReadOnlySpan<byte> payload, ulong offset)
    {
        MessagePackWriter w = BeginMessage(output, room, fromUser, fromConn, payload.Length, out int start);
        w.WriteBinary(payload);
        EndMessage(output, ref w, start, offset);
    }

    /// <summary>MESSAGE with the payload given as a sequence (a slice of a received PUBLISH).</summary>
    public static void Message(FrameBuffer output, string room, string fromUser, string fromConn, in System.Buffers.ReadOnlySequence<byte> payload, ulong offset)
    {
        MessagePackWriter w = BeginMessage(output, room, fromUser, fromConn, (int)payload.Length, out int start);
        w.WriteBinary(payload);
        EndMessage(output, ref w, start, offset);
    }

    private static MessagePackWriter BeginMessage(FrameBuffer output, string room, string fromUser, string fromConn, int payloadLength, out int start)
    {
        start = output.BeginFrame();
        var w = new MessagePackWriter(output, 32 + (room.Length + fromUser.Length + fromConn.Length) * 3 + payloadLength);
        w.WriteArrayHeader(6);
        w.WriteUInt64((ulong)OpCode.Message);
        w.WriteString(room);
        w.WriteString(fromUser);
        w.WriteString(fromConn);
        return w;
    }

    private static void EndMessage(FrameBuffer output, ref MessagePackWriter w, int start, ulong offset)
    {
        w.WriteUInt64(offset);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>COUNT_STATE [71, rid, room, connections, users].</summary>
    public static void CountState(FrameBuffer output, uint rid, string room, long connections, long users)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 32 + room.Length * 3);
        w.WriteArrayHeader(5);
        w.WriteUInt64((ulong)OpCode.CountState);
        w.WriteUInt64(rid);
        w.WriteString(room);
        w.WriteInt64(connections);
        w.WriteInt64(users);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>JOINED, first part: [67, rid, room, epoch, offset, members-header. Then WriteMember each, then <see cref="EndJoined"/>.</summary>
    public static MessagePackWriter BeginJoined(FrameBuffer output, uint rid, string room, string epoch, ulong offset, int memberCount, out int start)
    {
        start = output.BeginFrame();
        var w = new MessagePackWriter(output, 64 + memberCount * 48);
        w.WriteArrayHeader(8);
        w.WriteUInt64((ulong)OpCode.Joined);
        w.WriteUInt64(rid);
        w.WriteString(room);
        w.WriteString(epoch);
        w.WriteUInt64(offset);
        w.WriteArrayHeader(memberCount);
        return w;
    }

    /// <summary>JOINED, last part: recovered, total.</summary>
    public static void EndJoined(FrameBuffer output, ref MessagePackWriter w, int start, bool recovered, long total)
    {
        w.WriteBoolean(recovered);
        w.WriteInt64(total);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>PRESENCE_STATE, first part: [68, rid, room, members-header.</summary>
    public static MessagePackWriter BeginPresenceState(FrameBuffer output, uint rid, string room, int memberCount, out int start)
    {
        start = output.BeginFrame();
        var w = new MessagePackWriter(output, 32 + memberCount * 48);
        w.WriteArrayHeader(5);
        w.WriteUInt64((ulong)OpCode.PresenceState);
        w.WriteUInt64(rid);
        w.WriteString(room);
        w.WriteArrayHeader(memberCount);
        return w;
    }

    /// <summary>PRESENCE_STATE, last part: total.</summary>
    public static void EndPresenceState(FrameBuffer output, ref MessagePackWriter w, int start, long total)
    {
        w.WriteInt64(total);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>PRESENCE_DIFF, first part: [69, room, joins-header. Write the joins, call <see cref="WriteDiffLeavesHeader"/>, write the leaves, then <see cref="EndFrame"/>.</summary>
    public static MessagePackWriter BeginPresenceDiff(FrameBuffer output, string room, int joinCount, out int start)
    {
        start = output.BeginFrame();
        var w = new MessagePackWriter(output, 32 + joinCount * 48);
        w.WriteArrayHeader(4);
        w.WriteUInt64((ulong)OpCode.PresenceDiff);
        w.WriteString(room);
        w.WriteArrayHeader(joinCount);
        return w;
    }

    /// <summary>PRESENCE_DIFF: the leaves array header, after the joins.</summary>
    public static void WriteDiffLeavesHeader(ref MessagePackWriter w, int leaveCount) => w.WriteArrayHeader(leaveCount);

    /// <summary>Finishes a frame written in parts.</summary>
    public static void EndFrame(FrameBuffer output, ref MessagePackWriter w, int start)
    {
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>A member [user, conn, meta] (meta nil when absent).</summary>
    public static void WriteMember(ref MessagePackWriter w, string user, string conn, ReadOnlySpan<byte> meta, bool hasMeta)
    {
        w.WriteArrayHeader(3);
        w.WriteString(user);
        w.WriteString(conn);
        ClientFrames.WriteOptionalBinary(ref w, meta, hasMeta);
    }

    /// <summary>ONLINE_STATE, first part: [74, rid, online-header. Write each user with WriteString, then <see cref="EndFrame"/>.</summary>
    public static MessagePackWriter BeginOnlineState(FrameBuffer output, uint rid, int onlineCount, out int start)
    {
        start = output.BeginFrame();
        var w = new MessagePackWriter(output, 16 + onlineCount * 16);
        w.WriteArrayHeader(3);
        w.WriteUInt64((ulong)OpCode.OnlineState);
        w.WriteUInt64(rid);
        w.WriteArrayHeader(onlineCount);
        return w;
    }

    private static void OpRid(FrameBuffer output, OpCode op, uint rid)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 8);
        w.WriteArrayHeader(2);
        w.WriteUInt64((ulong)op);
        w.WriteUInt64(rid);
        w.Flush();
        output.EndFrame(start);
    }
}
