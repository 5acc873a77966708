using System;
using System.Buffers;
using System.Collections.Generic;
using PresenceD.Protocol.MessagePack;

namespace PresenceD.Protocol.Messages;

/// <summary>
/// Decodes server-to-client frame bodies (client side). Same strictness as the server's decoder:
/// wrong types, missing elements and trailing bytes throw <see cref="ProtocolException"/>; trailing
/// extra array elements are skipped.
/// </summary>
public static class ServerMessageDecoder
{
    /// <summary>The op of a body, without decoding the rest.</summary>
    public static OpCode PeekOp(in ReadOnlySequence<byte> body)
    {
        var reader = new MessagePackReader(body);
        if (reader.ReadArrayHeader() < 1) throw new ProtocolException("empty frame array");
        long op = reader.ReadInt64();
        // A wider value would alias a known op once cast to the byte-sized enum.
        if (op < 1 || op > byte.MaxValue) throw new ProtocolException($"op {op} is not a positive op code");
        return (OpCode)op;
    }

    /// <summary>Decodes a MESSAGE body without allocating; false when the body is another op.</summary>
    public static bool TryReadMessage(in ReadOnlySequence<byte> body, out MessageView message)
    {
        var reader = new MessagePackReader(body);
        int count = reader.ReadArrayHeader();
        if (count < 1) throw new ProtocolException("empty frame array");
        if (reader.ReadInt64() != (long)OpCode.Message)
        {
            message = default;
            return false;
        }
        Require(count, 6, OpCode.Message);
        ReadOnlySequence<byte> room = reader.ReadStringSequence();
        ReadOnlySequence<byte> user = reader.ReadStringSequence();
        ReadOnlySequence<byte> conn = reader.ReadStringSequence();
        ReadOnlySequence<byte> payload = reader.ReadBinarySequence();
        ulong offset = reader.ReadUInt64();
        Finish(ref reader, count, 6);
        message = new MessageView(room, user, conn, payload, offset);
        return true;
    }

    /// <summary>Decodes any server frame body.</summary>
    public static ServerMessage Decode(in ReadOnlySequence<byte> body)
    {
        var reader = new MessagePackReader(body);
        int count = reader.ReadArrayHeader();
        if (count < 1) throw new ProtocolException("empty frame array");
        long op = reader.ReadInt64();
        ServerMessage message;
        int read;
        switch (op)
        {
            case (long)OpCode.Welcome:
                Require(count, 8, OpCode.Welcome);
                message = ReadWelcome(ref reader, count, out read);
                break;
            case (long)OpCode.Ok:
                Require(count, 2, OpCode.Ok);
                message = new OkMessage(reader.ReadUInt32());
                read = 2;
                break;
            case (long)OpCode.Pong:
                Require(count, 2, OpCode.Pong);
                message = new PongMessage(reader.ReadUInt32());
                read = 2;
                break;
            case (long)OpCode.Error:
                Require(count, 4, OpCode.Error);
                message = new ErrorMessage(reader.ReadUInt32(), ReadErrorCode(ref reader), reader.ReadString());
                read = 4;
                break;
            case (long)OpCode.Joined:
                Require(count, 8, OpCode.Joined);
                message = new JoinedMessage(reader.ReadUInt32(), reader.ReadString(), reader.ReadString(), reader.ReadUInt64(),
                    ReadMembers(ref reader), reader.ReadBoolean(), reader.ReadInt64());
                read = 8;
                break;
            case (long)OpCode.PresenceState:
                Require(count, 5, OpCode.PresenceState);
                message = new PresenceStateMessage(reader.ReadUInt32(), reader.ReadString(), ReadMembers(ref reader), reader.ReadInt64());
                read = 5;
                break;
            case (long)OpCode.PresenceDiff:
                Require(count, 4, OpCode.PresenceDiff);
                message = new PresenceDiffMessage(reader.ReadString(), ReadMembers(ref reader), ReadMembers(ref reader));
                read = 4;
                break;
            case (long)OpCode.Message:
                Require(count, 6, OpCode.Message);
                message = new RoomMessage(reader.ReadString(), reader.ReadString(), reader.ReadString(),
                    reader.ReadBinarySequence().ToArray(), reader.ReadUInt64());
                read = 6;
                break;
            case (long)OpCode.CountState:
                Require(count, 5, OpCode.CountState);
                message = new CountStateMessage(reader.ReadUInt32(), reader.ReadString(), reader.ReadInt64(), reader.ReadInt64());
                read = 5;
                break;
            case (long)OpCode.GoAway:
                Require(count, 4, OpCode.GoAway);
                message = new GoAwayMessage(ReadErrorCode(ref reader), reader.ReadString(), reader.ReadInt64());
                read = 4;
                break;
            case (long)OpCode.OnlineState:
                Require(count, 3, OpCode.OnlineState);
                message = new OnlineStateMessage(reader.ReadUInt32(), ReadStrings(ref reader));
                read = 3;
                break;
            case (long)OpCode.Refreshed:
                Require(count, 4, OpCode.Refreshed);
                uint refreshRid = reader.ReadUInt32();
                long exp = reader.ReadInt64();
                message = new RefreshedMessage(refreshRid, exp, ReadStrings(ref reader));
                read = 4;
                break;
            default:
                throw new ProtocolException($"unknown server op {op}");
        }
        Finish(ref reader, count, read);
        return message;
    }

    /// <summary>
    /// WELCOME's eight fields, then the resume fields a server sends when HELLO asked for them, then the features when
    /// HELLO sent its own (an older server sends neither), then the rooms a resume left (sent only when there are some).
    /// </summary>
    private static WelcomeMessage ReadWelcome(ref MessagePackReader reader, int count, out int read)
    {
        var welcome = new WelcomeMessage(reader.ReadUInt32(), reader.ReadString(), reader.ReadString(), reader.ReadString(),
            reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64());
        read = 8;
        if (count > 8) { welcome = welcome with { ResumeToken = reader.ReadString() }; read = 9; }
        if (count > 9) { welcome = welcome with { ResumeWindowMs = reader.ReadInt64() }; read = 10; }
        if (count > 10) { welcome = welcome with { Resumed = reader.ReadBoolean() }; read = 11; }
        if (count > 11) { welcome = welcome with { Features = reader.ReadUInt32() }; read = 12; }
        // The server never sends left as nil; read as none, as an absent left.
        if (count > 12) { welcome = welcome with { Left = reader.TryReadNil() ? null : ReadStrings(ref reader) }; read = 13; }
        return welcome;
    }

    private static List<string> ReadStrings(ref MessagePackReader reader)
    {
        int n = reader.ReadArrayHeader();
        var strings = new List<string>(InitialCapacity(n));
        for (int i = 0; i < n; i++) strings.Add(reader.ReadString());
        return strings;
    }

    private static List<Member> ReadMembers(ref MessagePackReader reader)
    {
        int n = reader.ReadArrayHeader();
        var members = new List<Member>(InitialCapacity(n));
        for (int i = 0; i < n; i++)
        {
            int fields = reader.ReadArrayHeader();
            if (fields < 3) throw new ProtocolException($"a member needs [user, conn, meta], got {fields} elements");
            string user = reader.ReadString();
            string conn = reader.ReadString();
            byte[]? meta = reader.TryReadNil() ? null : reader.ReadBinarySequence().ToArray();
            for (int f = 3; f < fields; f++) reader.Skip();
            members.Add(new Member(user, conn, meta));
        }
        return members;
    }

    // A count is only checked against the bytes left (one per element), and a reference costs 8 bytes:
    // presizing to a hostile count would allocate 8x the frame before the elements prove to be there.
    private static int InitialCapacity(int count) => Math.Min(count, 256);

    private static ErrorCode ReadErrorCode(ref MessagePackReader reader)
    {
        long code = reader.ReadInt64();
        // Unknown codes up to 255 pass through for newer servers; wider ones would alias a known code.
        if (code < 0 || code > byte.MaxValue) throw new ProtocolException($"error code {code} out of range");
        return (ErrorCode)code;
    }

    private static void Require(int count, int needed, OpCode op)
    {
        if (count < needed) throw new ProtocolException($"{op} needs {needed} elements, got {count}");
    }

    private static void Finish(ref MessagePackReader reader, int count, int read)
    {
        for (; read < count; read++) reader.Skip();
        if (!reader.End) throw new ProtocolException($"{reader.Remaining} trailing bytes after the frame array");
    }
}
