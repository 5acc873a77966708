using System.Buffers;
using PresenceD.Protocol.MessagePack;

namespace PresenceD.Protocol.Messages;

/// <summary>
/// Decodes a client frame body (PROTOCOL.md, client to server) into a <see cref="ClientRequest"/>.
/// Strict: the body must be exactly one array whose first element is a known client op, required
/// elements must be present with the right types; trailing extra elements are skipped (forward
/// compatibility); trailing bytes after the array are an error. Throws only <see cref="ProtocolException"/>.
/// </summary>
public static class ClientRequestDecoder
{
    /// <summary>Decodes one frame body.</summary>
    public static ClientRequest Decode(in ReadOnlySequence<byte> body)
    {
        var reader = new MessagePackReader(body);
        int count = reader.ReadArrayHeader();
        if (count < 1) throw new ProtocolException("empty frame array");
        long op = reader.ReadInt64();
        var request = new ClientRequest { Op = (OpCode)op };
        int read;
        switch (op)
        {
            case (long)OpCode.Hello:
                Require(count, 4, "HELLO");
                request.Rid = reader.ReadUInt32();
                request.Version = reader.ReadInt64();
                request.HasCredential = !reader.TryReadNil();
                if (request.HasCredential) request.Credential = reader.ReadStringSequence();
                read = 4;
                if (count > 4)
                {
                    if (!reader.TryReadNil()) request.ClientName = reader.ReadStringSequence();
                    read = 5;
                }
                if (count > 5)
                {
                    request.HasResume = !reader.TryReadNil();
                    if (request.HasResume) request.ResumeToken = reader.ReadStringSequence();
                    read = 6;
                }
                if (count > 6)
                {
                    request.HasFeatures = !reader.TryReadNil();
                    if (request.HasFeatures) request.Features = reader.ReadUInt32();
                    read = 7;
                }
                break;
            case (long)OpCode.Join:
                Require(count, 3, "JOIN");
                request.Rid = reader.ReadUInt32();
                request.Room = reader.ReadStringSequence();
                read = 3;
                if (count > 3) { request.HasMeta = TryReadBinary(ref reader, out request.Meta); read = 4; }
                if (count > 4) { ReadSince(ref reader, ref request); read = 5; }
                if (count > 5) { request.HasWill = TryReadBinary(ref reader, out request.Will); read = 6; }
                break;
            case (long)OpCode.Leave:
            case (long)OpCode.Count:
                Require(count, 3, op == (long)OpCode.Leave ? "LEAVE" : "COUNT");
                request.Rid = reader.ReadUInt32();
                request.Room = reader.ReadStringSequence();
                read = 3;
                break;
            case (long)OpCode.Publish:
                Require(count, 4, "PUBLISH");
                request.Rid = reader.ReadUInt32();
                request.Room = reader.ReadStringSequence();
                request.Payload = reader.ReadBinarySequence();
                read = 4;
                break;
            case (long)OpCode.Update:
                Require(count, 3, "UPDATE");
                request.Rid = reader.ReadUInt32();
                request.Room = reader.ReadStringSequence();
                read = 3;
                if (count > 3) { request.HasMeta = TryReadBinary(ref reader, out request.Meta); read = 4; }
                break;
            case (long)OpCode.Presence:
                Require(count, 3, "PRESENCE");
                request.Rid = reader.ReadUInt32();
                request.Room = reader.ReadStringSequence();
                read = 3;
                if (count > 3)
                {
                    request.HasLimit = !reader.TryReadNil();
                    if (request.HasLimit) request.Limit = reader.ReadUInt32();
                    read = 4;
                }
                break;
            case (long)OpCode.Ping:
                Require(count, 2, "PING");
                request.Rid = reader.ReadUInt32();
                read = 2;
                break;
            case (long)OpCode.Bye:
                read = 1;
                break;
            case (long)OpCode.Online:
                Require(count, 3, "ONLINE");
                request.Rid = reader.ReadUInt32();
                ReadUsers(ref reader, ref request);
                read = 3;
                break;
            case (long)OpCode.Refresh:
                Require(count, 3, "REFRESH");
                request.Rid = reader.ReadUInt32();
                request.Credential = reader.ReadStringSequence();
                request.HasCredential = true;
                read = 3;
                break;
            default:
                throw new ProtocolException($"unknown op {op}");
        }
        for (; read < count; read++) reader.Skip();
        if (!reader.End) throw new ProtocolException($"{reader.Remaining} trailing bytes after the frame array");
        return request;
    }

    private static void Require(int count, int needed, string op)
    {
        if (count < needed) throw new ProtocolException($"{op} needs {needed} elements, got {count}");
    }

    private static bool TryReadBinary(ref MessagePackReader reader, out ReadOnlySequence<byte> value)
    {
        if (reader.TryReadNil())
        {
            value = default;
            return false;
        }
        value = reader.ReadBinarySequence();
        return true;
    }

    private static void ReadSince(ref MessagePackReader reader, ref ClientRequest request)
    {
        if (reader.TryReadNil()) return;
        int n = reader.ReadArrayHeader();
        if (n < 2) throw new ProtocolException($"since needs [epoch, offset], got {n} elements");
        request.SinceEpoch = reader.ReadStringSequence();
        request.SinceOffset = reader.ReadUInt64();
        for (int i = 2; i < n; i++) reader.Skip();
        request.HasSince = true;
    }

    private static void ReadUsers(ref MessagePackReader reader, ref ClientRequest request)
    {
        long start = reader.Consumed;
        int n = reader.ReadArrayHeader();
        for (int i = 0; i < n; i++) reader.ReadStringSequence();
        request.UserCount = n;
        // The array again, as a slice of the body, so the enumerator can walk it without a copy.
        request.Users = reader.SliceFrom(start);
    }
}
