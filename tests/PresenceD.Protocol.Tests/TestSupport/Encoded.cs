using System.Buffers;
using System.Text;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;

namespace PresenceD.Protocol.Tests.TestSupport;

/// <summary>Runs the codec's encoders and hands back plain arrays, and turns decoded values into comparable text.</summary>
internal static class Encoded
{
    /// <summary>The whole frame (length prefix included) that <paramref name="encode"/> writes.</summary>
    public static byte[] Frame(Action<FrameBuffer> encode)
    {
        using var buffer = new FrameBuffer(16);
        encode(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The body of the one frame that <paramref name="encode"/> writes, checked against its prefix.</summary>
    public static byte[] Body(Action<FrameBuffer> encode) => BodyOf(Frame(encode));

    public static byte[] BodyOf(byte[] frame)
    {
        var sequence = new ReadOnlySequence<byte>(frame);
        Assert.Equal(FrameStatus.Complete, FrameReader.TryRead(ref sequence, ProtocolConstants.MaxServerFrame, out ReadOnlySequence<byte> body));
        Assert.True(sequence.IsEmpty, "the encoder wrote more than one frame");
        return body.ToArray();
    }

    public static ClientRequest DecodeClient(byte[] body) => ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(body));

    public static ServerMessage DecodeServer(byte[] body) => ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(body));

    public static string Text(in ReadOnlySequence<byte> utf8) => Encoding.UTF8.GetString(utf8.ToArray());

    public static string Hex(in ReadOnlySequence<byte> bytes) => Convert.ToHexString(bytes.ToArray());

    public static byte[] Pattern(int length, int seed = 1) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 + seed)).ToArray();

    /// <summary>Every field of a request, so two decodings can be compared whole.</summary>
    public static string Describe(ClientRequest r)
    {
        var users = new List<string>();
        foreach (ReadOnlySequence<byte> user in r.EnumerateUsers()) users.Add(Text(user));
        return $"op={r.Op} rid={r.Rid} version={r.Version} cred={r.HasCredential}:{Hex(r.Credential)} client={Hex(r.ClientName)} " +
            $"room={Hex(r.Room)} meta={r.HasMeta}:{Hex(r.Meta)} since={r.HasSince}:{Hex(r.SinceEpoch)}:{r.SinceOffset} " +
            $"will={r.HasWill}:{Hex(r.Will)} payload={Hex(r.Payload)} limit={r.HasLimit}:{r.Limit} users={r.UserCount}:[{string.Join(",", users)}] " +
            $"resume={r.HasResume}:{Hex(r.ResumeToken)} features={r.HasFeatures}:{r.Features}";
    }

    /// <summary>Every field of a server message, member lists included.</summary>
    public static string Describe(ServerMessage m) => m switch
    {
        JoinedMessage j => $"{j with { Members = [] }} members={Describe(j.Members)}",
        PresenceStateMessage p => $"{p with { Members = [] }} members={Describe(p.Members)}",
        PresenceDiffMessage d => $"{d with { Joins = [], Leaves = [] }} joins={Describe(d.Joins)} leaves={Describe(d.Leaves)}",
        RoomMessage r => $"{r with { Payload = [] }} payload={Convert.ToHexString(r.Payload)}",
        OnlineStateMessage o => $"{o with { Online = [] }} online=[{string.Join(",", o.Online)}]",
        RefreshedMessage r => $"{r with { Left = [] }} left=[{string.Join(",", r.Left)}]",
        _ => m.ToString(),
    };

    public static string Describe(MessageView v) =>
        $"room={Hex(v.Room)} user={Hex(v.FromUser)} conn={Hex(v.FromConn)} payload={Hex(v.Payload)} offset={v.Offset}";

    private static string Describe(IReadOnlyList<Member> members) =>
        "[" + string.Join(",", members.Select(x => $"{x.User}/{x.Conn}/{(x.Meta is null ? "nil" : Convert.ToHexString(x.Meta))}")) + "]";
}
