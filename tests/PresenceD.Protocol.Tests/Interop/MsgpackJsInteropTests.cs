using System.Buffers;
using System.Text.Json.Nodes;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Protocol.Tests.TestSupport;
using static PresenceD.Protocol.Tests.Interop.Tagged;
using static PresenceD.Protocol.Tests.TestSupport.Encoded;

namespace PresenceD.Protocol.Tests.Interop;

/// <summary>
/// Our codec against the independent @msgpack/msgpack, for every op: (a) node reads our frames as the expected
/// structure, (b) our decoders read node's encoding of that structure as the expected fields, (c) the bytes are
/// identical (both sides use the smallest int, str, bin and array forms).
/// </summary>
public sealed class MsgpackJsInteropTests(NodeMsgpack node) : IClassFixture<NodeMsgpack>
{
    private const string Room = SampleFrames.UnicodeRoom;
    private static readonly byte[] Payload64 = Pattern(64);
    private static readonly byte[] Big = Pattern(70_000);

    private sealed record Case(Action<FrameBuffer> Encode, Func<JsonNode> Expected, Action<byte[]> AssertDecoded);

    private static Case Client(Action<FrameBuffer> encode, Func<JsonNode> expected, Action<ClientRequest> assert) =>
        new(encode, expected, body => assert(DecodeClient(body)));

    private static Case Server(Action<FrameBuffer> encode, Func<JsonNode> expected, ServerMessage message) =>
        new(encode, expected, body => Assert.Equal(Describe(message), Describe(DecodeServer(body))));

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["HELLO"] = Client(b => ClientFrames.Hello(b, 7, "alice", "unity/1.2"),
            () => Arr(Op(OpCode.Hello), Int(7), Int(1), Str("alice"), Str("unity/1.2")),
            r => { Assert.Equal((OpCode.Hello, 7u, 1L, "alice", "unity/1.2"), (r.Op, r.Rid, r.Version, Text(r.Credential), Text(r.ClientName))); }),
        ["HELLO nil credential"] = Client(b => ClientFrames.Hello(b, 70_000, null, null),
            () => Arr(Op(OpCode.Hello), Int(70_000), Int(1), Nil()),
            r => { Assert.Equal(70_000u, r.Rid); Assert.False(r.HasCredential); }),
        ["JOIN minimal"] = Client(b => ClientFrames.Join(b, 1, Room),
            () => Arr(Op(OpCode.Join), Int(1), Str(Room)),
            r => { Assert.Equal(Room, Text(r.Room)); Assert.False(r.HasMeta || r.HasSince || r.HasWill); }),
        ["JOIN meta"] = Client(b => ClientFrames.Join(b, 300, "lobby", [1, 2, 3], true),
            () => Arr(Op(OpCode.Join), Int(300), Str("lobby"), Bin([1, 2, 3])),
            r => { Assert.Equal(300u, r.Rid); Assert.Equal(new byte[] { 1, 2, 3 }, r.Meta.ToArray()); Assert.False(r.HasSince); }),
        ["JOIN since"] = Client(b => ClientFrames.Join(b, 5, "r", default, false, "ep", 1UL << 40),
            () => Arr(Op(OpCode.Join), Int(5), Str("r"), Nil(), Arr(Str("ep"), UInt(1UL << 40))),
            r => { Assert.False(r.HasMeta); Assert.True(r.HasSince); Assert.Equal(("ep", 1UL << 40), (Text(r.SinceEpoch), r.SinceOffset)); }),
        ["JOIN all"] = Client(b => ClientFrames.Join(b, uint.MaxValue, "r", Pattern(300), true, "e", 7, Big, true),
            () => Arr(Op(OpCode.Join), UInt(uint.MaxValue), Str("r"), Bin(Pattern(300)), Arr(Str("e"), Int(7)), Bin(Big)),
            r => { Assert.Equal(uint.MaxValue, r.Rid); Assert.Equal(Pattern(300), r.Meta.ToArray()); Assert.Equal(7UL, r.SinceOffset); Assert.Equal(Big, r.Will.ToArray()); }),
        ["LEAVE"] = Client(b => ClientFrames.Leave(b, 9, "lobby"),
            () => Arr(Op(OpCode.Leave), Int(9), Str("lobby")),
            r => Assert.Equal((OpCode.Leave, 9u, "lobby"), (r.Op, r.Rid, Text(r.Room)))),
        ["PUBLISH"] = Client(b => ClientFrames.Publish(b, 10, Room, Payload64),
            () => Arr(Op(OpCode.Publish), Int(10), Str(Room), Bin(Payload64)),
            r => { Assert.Equal((OpCode.Publish, 10u, Room), (r.Op, r.Rid, Text(r.Room))); Assert.Equal(Payload64, r.Payload.ToArray()); }),
        ["PUBLISH big rid 0"] = Client(b => ClientFrames.Publish(b, 0, "r", Big),
            () => Arr(Op(OpCode.Publish), Int(0), Str("r"), Bin(Big)),
            r => { Assert.Equal(0u, r.Rid); Assert.Equal(Big, r.Payload.ToArray()); }),
        ["UPDATE meta"] = Client(b => ClientFrames.Update(b, 11, "lobby", [9], true),
            () => Arr(Op(OpCode.Update), Int(11), Str("lobby"), Bin([9])),
            r => { Assert.True(r.HasMeta); Assert.Equal(new byte[] { 9 }, r.Meta.ToArray()); }),
        ["UPDATE nil"] = Client(b => ClientFrames.Update(b, 12, "lobby", default, false),
            () => Arr(Op(OpCode.Update), Int(12), Str("lobby"), Nil()),
            r => { Assert.Equal(OpCode.Update, r.Op); Assert.False(r.HasMeta); }),
        ["PRESENCE"] = Client(b => ClientFrames.Presence(b, 13, "lobby"),
            () => Arr(Op(OpCode.Presence), Int(13), Str("lobby")),
            r => { Assert.Equal(OpCode.Presence, r.Op); Assert.False(r.HasLimit); }),
        ["PRESENCE limit"] = Client(b => ClientFrames.Presence(b, 14, "lobby", 1000),
            () => Arr(Op(OpCode.Presence), Int(14), Str("lobby"), Int(1000)),
            r => { Assert.True(r.HasLimit); Assert.Equal(1000u, r.Limit); }),
        ["COUNT"] = Client(b => ClientFrames.Count(b, 15, "lobby"),
            () => Arr(Op(OpCode.Count), Int(15), Str("lobby")),
            r => Assert.Equal((OpCode.Count, 15u, "lobby"), (r.Op, r.Rid, Text(r.Room)))),
        ["PING"] = Client(b => ClientFrames.Ping(b, 65_536),
            () => Arr(Op(OpCode.Ping), Int(65_536)),
            r => Assert.Equal((OpCode.Ping, 65_536u), (r.Op, r.Rid))),
        ["BYE"] = Client(ClientFrames.Bye, () => Arr(Op(OpCode.Bye)), r => Assert.Equal(OpCode.Bye, r.Op)),
        ["ONLINE"] = Client(b => ClientFrames.Online(b, 16, ["alice", "bob", "ünï"]),
            () => Arr(Op(OpCode.Online), Int(16), Arr(Str("alice"), Str("bob"), Str("ünï"))),
            r =>
            {
                var users = new List<string>();
                foreach (ReadOnlySequence<byte> user in r.EnumerateUsers()) users.Add(Text(user));
                Assert.Equal(["alice", "bob", "ünï"], users);
            }),
        ["ONLINE empty"] = Client(b => ClientFrames.Online(b, 17, []),
            () => Arr(Op(OpCode.Online), Int(17), Arr()),
            r => Assert.Equal(0, r.UserCount)),
        ["HELLO features"] = Client(b => ClientFrames.Hello(b, 18, "alice", "unity/1.2", features: ProtocolFeatures.Refresh),
            () => Arr(Op(OpCode.Hello), Int(18), Int(1), Str("alice"), Str("unity/1.2"), Nil(), Int(1)),
            r => { Assert.Equal((true, 1u, false), (r.HasFeatures, r.Features, r.HasResume)); }),
        ["REFRESH"] = Client(b => ClientFrames.Refresh(b, 19, "h.p.s"),
            () => Arr(Op(OpCode.Refresh), Int(19), Str("h.p.s")),
            r => Assert.Equal((OpCode.Refresh, 19u, "h.p.s"), (r.Op, r.Rid, Text(r.Credential)))),

        ["WELCOME"] = Server(b => ServerFrames.Welcome(b, 1, "alice", "c-1", "node-a", 5000, 15000, 65536),
            () => Arr(Op(OpCode.Welcome), Int(1), Str("alice"), Str("c-1"), Str("node-a"), Int(5000), Int(15000), Int(65536)),
            new WelcomeMessage(1, "alice", "c-1", "node-a", 5000, 15000, 65536)),
        ["OK"] = Server(b => ServerFrames.Ok(b, 200), () => Arr(Op(OpCode.Ok), Int(200)), new OkMessage(200)),
        ["PONG"] = Server(b => ServerFrames.Pong(b, 0), () => Arr(Op(OpCode.Pong), Int(0)), new PongMessage(0)),
        ["ERROR"] = Server(b => ServerFrames.Error(b, 3, ErrorCode.NotJoined, "not joined"),
            () => Arr(Op(OpCode.Error), Int(3), Int(5), Str("not joined")), new ErrorMessage(3, ErrorCode.NotJoined, "not joined")),
        ["GOAWAY"] = Server(b => ServerFrames.GoAway(b, ErrorCode.Shutdown, "draining", 2500),
            () => Arr(Op(OpCode.GoAway), Int(12), Str("draining"), Int(2500)), new GoAwayMessage(ErrorCode.Shutdown, "draining", 2500)),
        ["JOINED"] = Server(b =>
            {
                MessagePackWriter w = ServerFrames.BeginJoined(b, 4, Room, "epoch-1", (1UL << 53) - 1, 2, out int start);
                ServerFrames.WriteMember(ref w, "alice", "c-1", [1], true);
                ServerFrames.WriteMember(ref w, "bob", "c-2", default, false);
                ServerFrames.EndJoined(b, ref w, start, true, 12);
            },
            () => Arr(Op(OpCode.Joined), Int(4), Str(Room), Str("epoch-1"), UInt((1UL << 53) - 1),
                Arr(Member("alice", "c-1", [1]), Member("bob", "c-2", null)), Bool(true), Int(12)),
            new JoinedMessage(4, Room, "epoch-1", (1UL << 53) - 1, [new("alice", "c-1", [1]), new("bob", "c-2", null)], true, 12)),
        ["JOINED empty"] = Server(b =>
            {
                MessagePackWriter w = ServerFrames.BeginJoined(b, 5, "r", "", 0, 0, out int start);
                ServerFrames.EndJoined(b, ref w, start, false, 0);
            },
            () => Arr(Op(OpCode.Joined), Int(5), Str("r"), Str(""), Int(0), Arr(), Bool(false), Int(0)),
            new JoinedMessage(5, "r", "", 0, [], false, 0)),
        ["PRESENCE_STATE"] = Server(b =>
            {
                MessagePackWriter w = ServerFrames.BeginPresenceState(b, 6, "lobby", 1, out int start);
                ServerFrames.WriteMember(ref w, "alice", "c-1", Pattern(300), true);
                ServerFrames.EndPresenceState(b, ref w, start, 42);
            },
            () => Arr(Op(OpCode.PresenceState), Int(6), Str("lobby"), Arr(Member("alice", "c-1", Pattern(300))), Int(42)),
            new PresenceStateMessage(6, "lobby", [new("alice", "c-1", Pattern(300))], 42)),
        ["PRESENCE_DIFF"] = Server(b =>
            {
                MessagePackWriter w = ServerFrames.BeginPresenceDiff(b, "lobby", 1, out int start);
                ServerFrames.WriteMember(ref w, "bob", "c-2", [2], true);
                ServerFrames.WriteDiffLeavesHeader(ref w, 1);
                ServerFrames.WriteMember(ref w, "bob", "c-2", default, false);
                ServerFrames.EndFrame(b, ref w, start);
            },
            () => Arr(Op(OpCode.PresenceDiff), Str("lobby"), Arr(Member("bob", "c-2", [2])), Arr(Member("bob", "c-2", null))),
            new PresenceDiffMessage("lobby", [new("bob", "c-2", [2])], [new("bob", "c-2", null)])),
        ["MESSAGE"] = Server(b => ServerFrames.Message(b, "lobby", "alice", "c-1", Payload64, 17),
            () => Arr(Op(OpCode.Message), Str("lobby"), Str("alice"), Str("c-1"), Bin(Payload64), Int(17)),
            new RoomMessage("lobby", "alice", "c-1", Payload64, 17)),
        ["MESSAGE big"] = Server(b => ServerFrames.Message(b, Room, "ünï", "c-1", Big, 1UL << 33),
            () => Arr(Op(OpCode.Message), Str(Room), Str("ünï"), Str("c-1"), Bin(Big), UInt(1UL << 33)),
            new RoomMessage(Room, "ünï", "c-1", Big, 1UL << 33)),
        ["COUNT_STATE"] = Server(b => ServerFrames.CountState(b, 7, "lobby", 100_000, 70_000),
            () => Arr(Op(OpCode.CountState), Int(7), Str("lobby"), Int(100_000), Int(70_000)), new CountStateMessage(7, "lobby", 100_000, 70_000)),
        ["ONLINE_STATE"] = Server(b =>
            {
                MessagePackWriter w = ServerFrames.BeginOnlineState(b, 8, 2, out int start);
                w.WriteString("alice");
                w.WriteString("🎮");
                ServerFrames.EndFrame(b, ref w, start);
            },
            () => Arr(Op(OpCode.OnlineState), Int(8), Arr(Str("alice"), Str("🎮"))), new OnlineStateMessage(8, ["alice", "🎮"])),
        ["WELCOME features"] = Server(b => ServerFrames.Welcome(b, 2, "alice", "c-1", "node-a", 5000, 15000, 65536, "", 0, false, ProtocolFeatures.Refresh),
            () => Arr(Op(OpCode.Welcome), Int(2), Str("alice"), Str("c-1"), Str("node-a"), Int(5000), Int(15000), Int(65536), Str(""), Int(0), Bool(false), Int(1)),
            new WelcomeMessage(2, "alice", "c-1", "node-a", 5000, 15000, 65536, "", 0, false, ProtocolFeatures.Refresh)),
        ["REFRESHED"] = Server(b =>
            {
                MessagePackWriter w = ServerFrames.BeginRefreshed(b, 9, 1_900_000_000, 1, out int start);
                w.WriteString(Room);
                ServerFrames.EndFrame(b, ref w, start);
            },
            () => Arr(Op(OpCode.Refreshed), Int(9), Int(1_900_000_000), Arr(Str(Room))), new RefreshedMessage(9, 1_900_000_000, [Room])),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Fact]
    public void Every_op_has_a_case()
    {
        var covered = new HashSet<OpCode>();
        foreach (Case c in Cases.Values)
        {
            byte[] body = Body(c.Encode);
            covered.Add((OpCode)body[1]);
        }
        Assert.Equal(Enum.GetValues<OpCode>().ToHashSet(), covered);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Op_round_trips_through_msgpack_js(string name)
    {
        Case c = Cases[name];
        byte[] ours = Body(c.Encode);

        JsonNode readByNode = node.Decode(ours);
        Assert.True(JsonNode.DeepEquals(c.Expected(), readByNode), $"(a) node read {Shorten(readByNode)}");

        byte[] theirs = node.Encode(c.Expected());
        c.AssertDecoded(theirs);
        if (name.StartsWith("MESSAGE", StringComparison.Ordinal))
        {
            Assert.True(ServerMessageDecoder.TryReadMessage(new ReadOnlySequence<byte>(theirs), out MessageView view));
            Assert.Equal(Describe(ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(ours))), Describe(DecodeServer(theirs)));
            Assert.Equal(((RoomMessage)DecodeServer(ours)).Payload, view.Payload.ToArray());
        }

        Assert.Equal(Convert.ToHexStringLower(theirs), Convert.ToHexStringLower(ours));
    }

    [Theory]
    [InlineData(0L)] [InlineData(127L)] [InlineData(128L)] [InlineData(255L)] [InlineData(256L)] [InlineData(65_535L)]
    [InlineData(65_536L)] [InlineData(4_294_967_295L)] [InlineData(4_294_967_296L)] [InlineData((1L << 53) - 1)] [InlineData(long.MaxValue)]
    [InlineData(-1L)] [InlineData(-32L)] [InlineData(-33L)] [InlineData(-128L)] [InlineData(-129L)] [InlineData(-32_768L)]
    [InlineData(-32_769L)] [InlineData(-2_147_483_648L)] [InlineData(-2_147_483_649L)] [InlineData(long.MinValue)]
    public void Integers_match_byte_for_byte(long value)
    {
        byte[] ours = Write((ref MessagePackWriter w) => w.WriteInt64(value));
        Assert.Equal(Convert.ToHexStringLower(node.Encode(Int(value))), Convert.ToHexStringLower(ours));
        Assert.True(JsonNode.DeepEquals(Int(value), node.Decode(ours)));
        Assert.Equal(value, new MessagePackReader(new ReadOnlySequence<byte>(ours)).ReadInt64());
    }

    [Fact]
    public void UInt64_max_matches_byte_for_byte()
    {
        byte[] ours = Write((ref MessagePackWriter w) => w.WriteUInt64(ulong.MaxValue));
        Assert.Equal(node.Encode(UInt(ulong.MaxValue)), ours);
        Assert.Equal(ulong.MaxValue, new MessagePackReader(new ReadOnlySequence<byte>(ours)).ReadUInt64());
    }

    [Theory]
    [InlineData(0)] [InlineData(31)] [InlineData(32)] [InlineData(255)] [InlineData(256)] [InlineData(65_535)] [InlineData(65_536)]
    public void Strings_and_binaries_match_byte_for_byte(int length)
    {
        string text = string.Concat(Enumerable.Range(0, length).Select(i => (char)('a' + i % 26)));
        byte[] ours = Write((ref MessagePackWriter w) => w.WriteString(text));
        Assert.Equal(node.Encode(Str(text)), ours);
        Assert.Equal(text, new MessagePackReader(new ReadOnlySequence<byte>(ours)).ReadString());

        byte[] bytes = Pattern(length);
        byte[] ourBin = Write((ref MessagePackWriter w) => w.WriteBinary(bytes));
        Assert.Equal(node.Encode(Bin(bytes)), ourBin);
        Assert.Equal(bytes, new MessagePackReader(new ReadOnlySequence<byte>(ourBin)).ReadBinarySequence().ToArray());
    }

    [Fact]
    public void Unicode_strings_match_byte_for_byte()
    {
        foreach (string text in new[] { "é", "部屋", "🎮", Room, new string('é', 200), string.Concat(Enumerable.Repeat("🎮", 20_000)) })
        {
            byte[] ours = Write((ref MessagePackWriter w) => w.WriteString(text));
            Assert.Equal(node.Encode(Str(text)), ours);
            Assert.True(JsonNode.DeepEquals(Str(text), node.Decode(ours)));
        }
    }

    [Theory]
    [InlineData(0)] [InlineData(15)] [InlineData(16)] [InlineData(65_535)] [InlineData(65_536)]
    public void Array_and_map_headers_match_byte_for_byte(int count)
    {
        byte[] ours = Write((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(count);
            for (int i = 0; i < count; i++) w.WriteNil();
        });
        Assert.Equal(node.Encode(Arr(Enumerable.Range(0, count).Select(_ => (JsonNode)Nil()).ToArray())), ours);

        int pairs = Math.Min(count, 70);
        byte[] ourMap = Write((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(pairs);
            for (int i = 0; i < pairs; i++)
            {
                w.WriteString($"k{i}");
                w.WriteInt64(i);
            }
        });
        Assert.Equal(node.Encode(Map(Enumerable.Range(0, pairs).Select(i => ($"k{i}", (JsonNode)Int(i))).ToArray())), ourMap);
    }

    private delegate void WriteAction(ref MessagePackWriter writer);

    private static byte[] Write(WriteAction write)
    {
        using var buffer = new FrameBuffer(16);
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static string Shorten(JsonNode value)
    {
        string json = value.ToJsonString();
        return json.Length <= 600 ? json : json[..600] + "...";
    }
}
