using System;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;

namespace PresenceD.Protocol.Messages;

/// <summary>Encoders for client-to-server frames (PROTOCOL.md), each a whole length-prefixed frame.</summary>
public static class ClientFrames
{
    /// <summary>HELLO [1, rid, version, credential, client?, resume?, features?].</summary>
    /// <remarks>
    /// <paramref name="resume"/> null leaves the field out (no resumable session); "" asks for a resumable session;
    /// a token asks to resume that session (and for the new one to be resumable too). <paramref name="features"/> 0
    /// leaves the field out; else the <see cref="ProtocolFeatures"/> bits the client knows (resume nil when not asked).
    /// </remarks>
    public static void Hello(FrameBuffer output, uint rid, string? credential, string? client, int version = ProtocolConstants.Version, string? resume = null,
        uint features = 0)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 40);
        int count = features != 0 ? 7 : resume is not null ? 6 : client is null ? 4 : 5;
        w.WriteArrayHeader(count);
        w.WriteUInt64((ulong)OpCode.Hello);
        w.WriteUInt64(rid);
        w.WriteInt64(version);
        WriteOptionalString(ref w, credential);
        if (count > 5) WriteOptionalString(ref w, client);
        else if (client is not null) w.WriteString(client);
        if (count > 5) WriteOptionalString(ref w, resume);
        if (count > 6) w.WriteUInt64(features);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>JOIN [2, rid, room, meta?, since?, will?]; since is (epoch, offset).</summary>
    public static void Join(FrameBuffer output, uint rid, string room, ReadOnlySpan<byte> meta = default, bool hasMeta = false,
        string? sinceEpoch = null, ulong sinceOffset = 0, ReadOnlySpan<byte> will = default, bool hasWill = false)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 32 + meta.Length + will.Length);
        int count = hasWill ? 6 : sinceEpoch is not null ? 5 : hasMeta ? 4 : 3;
        w.WriteArrayHeader(count);
        w.WriteUInt64((ulong)OpCode.Join);
        w.WriteUInt64(rid);
        w.WriteString(room);
        if (count > 3) WriteOptionalBinary(ref w, meta, hasMeta);
        if (count > 4)
        {
            if (sinceEpoch is null) w.WriteNil();
            else
            {
                w.WriteArrayHeader(2);
                w.WriteString(sinceEpoch);
                w.WriteUInt64(sinceOffset);
            }
        }
        if (count > 5) WriteOptionalBinary(ref w, will, hasWill);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>LEAVE [3, rid, room].</summary>
    public static void Leave(FrameBuffer output, uint rid, string room) => RidRoom(output, OpCode.Leave, rid, room);

    /// <summary>PUBLISH [4, rid, room, payload].</summary>
    public static void Publish(FrameBuffer output, uint rid, string room, ReadOnlySpan<byte> payload)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 16 + room.Length * 3 + payload.Length);
        w.WriteArrayHeader(4);
        w.WriteUInt64((ulong)OpCode.Publish);
        w.WriteUInt64(rid);
        w.WriteString(room);
        w.WriteBinary(payload);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>UPDATE [5, rid, room, meta?].</summary>
    public static void Update(FrameBuffer output, uint rid, string room, ReadOnlySpan<byte> meta, bool hasMeta)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 16 + meta.Length);
        w.WriteArrayHeader(4);
        w.WriteUInt64((ulong)OpCode.Update);
        w.WriteUInt64(rid);
        w.WriteString(room);
        WriteOptionalBinary(ref w, meta, hasMeta);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>PRESENCE [6, rid, room, limit?].</summary>
    public static void Presence(FrameBuffer output, uint rid, string room, uint? limit = null)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 32);
        w.WriteArrayHeader(limit is null ? 3 : 4);
        w.WriteUInt64((ulong)OpCode.Presence);
        w.WriteUInt64(rid);
        w.WriteString(room);
        if (limit is not null) w.WriteUInt64(limit.Value);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>COUNT [7, rid, room].</summary>
    public static void Count(FrameBuffer output, uint rid, string room) => RidRoom(output, OpCode.Count, rid, room);

    /// <summary>PING [8, rid].</summary>
    public static void Ping(FrameBuffer output, uint rid)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 8);
        w.WriteArrayHeader(2);
        w.WriteUInt64((ulong)OpCode.Ping);
        w.WriteUInt64(rid);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>BYE [9].</summary>
    public static void Bye(FrameBuffer output)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 2);
        w.WriteArrayHeader(1);
        w.WriteUInt64((ulong)OpCode.Bye);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>ONLINE [10, rid, users].</summary>
    public static void Online(FrameBuffer output, uint rid, System.Collections.Generic.IReadOnlyList<string> users)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 16 + users.Count * 16);
        w.WriteArrayHeader(3);
        w.WriteUInt64((ulong)OpCode.Online);
        w.WriteUInt64(rid);
        w.WriteArrayHeader(users.Count);
        for (int i = 0; i < users.Count; i++) w.WriteString(users[i]);
        w.Flush();
        output.EndFrame(start);
    }

    /// <summary>REFRESH [11, rid, credential]: a new JWT for the session's user.</summary>
    public static void Refresh(FrameBuffer output, uint rid, string credential)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 16 + credential.Length);
        w.WriteArrayHeader(3);
        w.WriteUInt64((ulong)OpCode.Refresh);
        w.WriteUInt64(rid);
        w.WriteString(credential);
        w.Flush();
        output.EndFrame(start);
    }

    private static void RidRoom(FrameBuffer output, OpCode op, uint rid, string room)
    {
        int start = output.BeginFrame();
        var w = new MessagePackWriter(output, 16 + room.Length * 3);
        w.WriteArrayHeader(3);
        w.WriteUInt64((ulong)op);
        w.WriteUInt64(rid);
        w.WriteString(room);
        w.Flush();
        output.EndFrame(start);
    }

    internal static void WriteOptionalString(ref MessagePackWriter w, string? value)
    {
        if (value is null) w.WriteNil();
        else w.WriteString(value);
    }

    internal static void WriteOptionalBinary(ref MessagePackWriter w, ReadOnlySpan<byte> value, bool present)
    {
        if (present) w.WriteBinary(value);
        else w.WriteNil();
    }
}
