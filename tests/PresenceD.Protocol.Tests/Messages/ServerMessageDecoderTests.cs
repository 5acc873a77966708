using System.Buffers;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Protocol.Tests.TestSupport;
using static PresenceD.Protocol.Tests.TestSupport.Encoded;

namespace PresenceD.Protocol.Tests.Messages;

/// <summary>Every server op encoded with <see cref="ServerFrames"/>, framed, read back and decoded field by field.</summary>
public sealed class ServerMessageDecoderTests
{
    private static T RoundTrip<T>(Action<FrameBuffer> encode) where T : ServerMessage
    {
        byte[] body = Body(encode);
        ServerMessage message = DecodeServer(body);
        Assert.Equal(message.Op, ServerMessageDecoder.PeekOp(new ReadOnlySequence<byte>(body)));
        return Assert.IsType<T>(message);
    }

    [Fact]
    public void Welcome()
    {
        WelcomeMessage m = RoundTrip<WelcomeMessage>(b => ServerFrames.Welcome(b, 1, "ünï", "c-abc", "node-1", 5000, 15000, 65536));
        Assert.Equal(new WelcomeMessage(1, "ünï", "c-abc", "node-1", 5000, 15000, 65536), m);
        Assert.Equal(OpCode.Welcome, m.Op);
        Assert.Equal(("", 0L, false), (m.ResumeToken, m.ResumeWindowMs, m.Resumed));
    }

    [Fact]
    public void Welcome_with_the_resume_fields()
    {
        WelcomeMessage m = RoundTrip<WelcomeMessage>(b => ServerFrames.Welcome(b, 1, "u", "c-1", "n", 5000, 15000, 65536, "tok.c-1", 10_000, true));
        Assert.Equal(new WelcomeMessage(1, "u", "c-1", "n", 5000, 15000, 65536, "tok.c-1", 10_000, true), m);
    }

    [Fact]
    public void Welcome_of_a_resume_that_left_rooms_has_left_after_features_0_when_hello_sent_none()
    {
        WelcomeMessage m = RoundTrip<WelcomeMessage>(b => ServerFrames.Welcome(b, 1, "u", "c-1", "n", 5000, 15000, 65536, "t.c-1", 10_000, true, null, ["b", "c"]));
        Assert.Equal((true, 0u), (m.Resumed, m.Features));
        Assert.Equal(["b", "c"], m.Left);
        Assert.Equal(ProtocolFeatures.Refresh,
            RoundTrip<WelcomeMessage>(b => ServerFrames.Welcome(b, 1, "u", "c-1", "n", 5000, 15000, 65536, "t.c-1", 10_000, true, ProtocolFeatures.Refresh, ["b"])).Features);
        // No room left: no thirteenth element (and no twelfth when HELLO sent no features), byte for byte the WELCOME before.
        using var none = new FrameBuffer();
        ServerFrames.Welcome(none, 1, "u", "c-1", "n", 5000, 15000, 65536, "t.c-1", 10_000, true, null, []);
        using var before = new FrameBuffer();
        ServerFrames.Welcome(before, 1, "u", "c-1", "n", 5000, 15000, 65536, "t.c-1", 10_000, true);
        Assert.Equal(before.WrittenSpan.ToArray(), none.WrittenSpan.ToArray());
        Assert.Null(RoundTrip<WelcomeMessage>(b => ServerFrames.Welcome(b, 1, "u", "c-1", "n", 5000, 15000, 65536, "t", 10, true)).Left);
    }

    [Fact]
    public void Welcome_with_features_and_refreshed()
    {
        WelcomeMessage m = RoundTrip<WelcomeMessage>(b => ServerFrames.Welcome(b, 1, "u", "c-1", "n", 5000, 15000, 65536, "", 0, false, ProtocolFeatures.Refresh));
        Assert.Equal(new WelcomeMessage(1, "u", "c-1", "n", 5000, 15000, 65536, "", 0, false, ProtocolFeatures.Refresh), m);
        // An older server sends no features: the client must not send REFRESH.
        Assert.Equal(0u, RoundTrip<WelcomeMessage>(b => ServerFrames.Welcome(b, 1, "u", "c-1", "n", 5000, 15000, 65536, "t", 10, false)).Features);

        RefreshedMessage r = RoundTrip<RefreshedMessage>(b =>
        {
            MessagePackWriter w = ServerFrames.BeginRefreshed(b, 7, 1_900_000_000, 2, out int start);
            w.WriteString("game:1");
            w.WriteString("game:2");
            ServerFrames.EndFrame(b, ref w, start);
        });
        Assert.Equal((7u, 1_900_000_000L), (r.Rid, r.Exp));
        Assert.Equal(["game:1", "game:2"], r.Left);
        Assert.Empty(RoundTrip<RefreshedMessage>(b =>
        {
            MessagePackWriter w = ServerFrames.BeginRefreshed(b, 8, 1, 0, out int start);
            ServerFrames.EndFrame(b, ref w, start);
        }).Left);
        Assert.Throws<ProtocolException>(() => DecodeServer(new Raw().FixArray(3).FixInt(75).FixInt(7).FixInt(1).ToArray()));
    }

    [Fact]
    public void Welcome_resume_token_must_be_a_str()
    {
        byte[] body = new Raw().FixArray(9).FixInt(64).FixInt(1).FixStr("u").FixStr("c").FixStr("n").FixInt(5).FixInt(15).FixInt(64).FixInt(1).ToArray();
        Assert.Throws<ProtocolException>(() => DecodeServer(body));
    }

    [Fact]
    public void Ok_and_pong()
    {
        Assert.Equal(new OkMessage(uint.MaxValue), RoundTrip<OkMessage>(b => ServerFrames.Ok(b, uint.MaxValue)));
        Assert.Equal(new PongMessage(0), RoundTrip<PongMessage>(b => ServerFrames.Pong(b, 0)));
    }

    [Theory]
    [InlineData(ErrorCode.Protocol, 0u)]
    [InlineData(ErrorCode.BadRequest, 5u)]
    [InlineData(ErrorCode.Timeout, 70_000u)]
    public void Error(ErrorCode code, uint rid)
    {
        string text = new('x', 300);
        Assert.Equal(new ErrorMessage(rid, code, text), RoundTrip<ErrorMessage>(b => ServerFrames.Error(b, rid, code, text)));
    }

    [Fact]
    public void GoAway()
    {
        Assert.Equal(new GoAwayMessage(ErrorCode.Shutdown, "bye 👋", 2500), RoundTrip<GoAwayMessage>(b => ServerFrames.GoAway(b, ErrorCode.Shutdown, "bye 👋", 2500)));
    }

    [Fact]
    public void Joined_with_members_with_and_without_meta()
    {
        JoinedMessage m = RoundTrip<JoinedMessage>(b =>
        {
            MessagePackWriter w = ServerFrames.BeginJoined(b, 3, SampleFrames.UnicodeRoom, "ep-9", (1UL << 53) - 1, 3, out int start);
            ServerFrames.WriteMember(ref w, "alice", "c-1", [1, 2], true);
            ServerFrames.WriteMember(ref w, "bob", "c-2", default, false);
            ServerFrames.WriteMember(ref w, "alice", "c-3", [], true);
            ServerFrames.EndJoined(b, ref w, start, recovered: true, total: 5000);
        });
        Assert.Equal(3u, m.Rid);
        Assert.Equal(SampleFrames.UnicodeRoom, m.Room);
        Assert.Equal("ep-9", m.Epoch);
        Assert.Equal((1UL << 53) - 1, m.Offset);
        Assert.True(m.Recovered);
        Assert.Equal(5000, m.Total);
        Assert.Equal(3, m.Members.Count);
        AssertMember(m.Members[0], "alice", "c-1", [1, 2]);
        AssertMember(m.Members[1], "bob", "c-2", null);
        AssertMember(m.Members[2], "alice", "c-3", []);
    }

    [Fact]
    public void Joined_without_history_and_without_members()
    {
        JoinedMessage m = RoundTrip<JoinedMessage>(b =>
        {
            MessagePackWriter w = ServerFrames.BeginJoined(b, 4, "r", "", 0, 0, out int start);
            ServerFrames.EndJoined(b, ref w, start, recovered: false, total: 0);
        });
        Assert.Equal("", m.Epoch);
        Assert.Equal(0UL, m.Offset);
        Assert.Empty(m.Members);
        Assert.False(m.Recovered);
    }

    [Fact]
    public void Joined_with_a_thousand_members_uses_array16()
    {
        byte[] body = Body(b =>
        {
            MessagePackWriter w = ServerFrames.BeginJoined(b, 5, "big", "e", 1, 1000, out int start);
            for (int i = 0; i < 1000; i++) ServerFrames.WriteMember(ref w, $"user-{i}", $"c-{i}", i % 2 == 0 ? Pattern(i % 50) : default, i % 2 == 0);
            ServerFrames.EndJoined(b, ref w, start, false, 100_000);
        });
        JoinedMessage m = Assert.IsType<JoinedMessage>(DecodeServer(body));
        Assert.Equal(1000, m.Members.Count);
        for (int i = 0; i < 1000; i++) AssertMember(m.Members[i], $"user-{i}", $"c-{i}", i % 2 == 0 ? Pattern(i % 50) : null);
        Assert.Equal(100_000, m.Total);
    }

    [Fact]
    public void PresenceState()
    {
        PresenceStateMessage m = RoundTrip<PresenceStateMessage>(b =>
        {
            MessagePackWriter w = ServerFrames.BeginPresenceState(b, 6, "lobby", 2, out int start);
            ServerFrames.WriteMember(ref w, "alice", "c-1", default, false);
            ServerFrames.WriteMember(ref w, "bob", "c-2", [3], true);
            ServerFrames.EndPresenceState(b, ref w, start, 2);
        });
        Assert.Equal(6u, m.Rid);
        Assert.Equal("lobby", m.Room);
        Assert.Equal(2, m.Total);
        AssertMember(m.Members[0], "alice", "c-1", null);
        AssertMember(m.Members[1], "bob", "c-2", [3]);
    }

    [Fact]
    public void PresenceDiff_with_joins_and_leaves()
    {
        PresenceDiffMessage m = RoundTrip<PresenceDiffMessage>(b =>
        {
            MessagePackWriter w = ServerFrames.BeginPresenceDiff(b, "lobby", 1, out int start);
            ServerFrames.WriteMember(ref w, "bob", "c-2", [2], true);
            ServerFrames.WriteDiffLeavesHeader(ref w, 2);
            ServerFrames.WriteMember(ref w, "bob", "c-2", [1], true);
            ServerFrames.WriteMember(ref w, "eve", "c-3", default, false);
            ServerFrames.EndFrame(b, ref w, start);
        });
        Assert.Equal("lobby", m.Room);
        AssertMember(Assert.Single(m.Joins), "bob", "c-2", [2]);
        Assert.Equal(2, m.Leaves.Count);
        AssertMember(m.Leaves[0], "bob", "c-2", [1]);
        AssertMember(m.Leaves[1], "eve", "c-3", null);
    }

    [Fact]
    public void PresenceDiff_with_empty_lists()
    {
        PresenceDiffMessage m = RoundTrip<PresenceDiffMessage>(b =>
        {
            MessagePackWriter w = ServerFrames.BeginPresenceDiff(b, "lobby", 0, out int start);
            ServerFrames.WriteDiffLeavesHeader(ref w, 0);
            ServerFrames.EndFrame(b, ref w, start);
        });
        Assert.Empty(m.Joins);
        Assert.Empty(m.Leaves);
    }

    [Theory]
    [InlineData(0, 0UL)]
    [InlineData(64, 1UL)]
    [InlineData(255, 127UL)]
    [InlineData(256, 128UL)]
    [InlineData(65_536, 70_000UL)]
    [InlineData(1_000_000, (1UL << 53) - 1)]
    public void Message_from_span_and_from_sequence(int size, ulong offset)
    {
        byte[] payload = Pattern(size);
        RoomMessage fromSpan = RoundTrip<RoomMessage>(b => ServerFrames.Message(b, SampleFrames.UnicodeRoom, "alice", "c-1", payload, offset));
        Assert.Equal(SampleFrames.UnicodeRoom, fromSpan.Room);
        Assert.Equal("alice", fromSpan.FromUser);
        Assert.Equal("c-1", fromSpan.FromConn);
        Assert.Equal(payload, fromSpan.Payload);
        Assert.Equal(offset, fromSpan.Offset);

        ReadOnlySequence<byte> split = Sequences.RandomSplit(payload, new Random(size));
        byte[] fromSequence = Body(b => ServerFrames.Message(b, SampleFrames.UnicodeRoom, "alice", "c-1", split, offset));
        Assert.Equal(Body(b => ServerFrames.Message(b, SampleFrames.UnicodeRoom, "alice", "c-1", payload, offset)), fromSequence);
    }

    [Fact]
    public void TryReadMessage_gives_slices_of_every_field()
    {
        byte[] payload = Pattern(64);
        byte[] body = Body(b => ServerFrames.Message(b, "lobby", "ünï", "c-7", payload, 42));
        Assert.True(ServerMessageDecoder.TryReadMessage(new ReadOnlySequence<byte>(body), out MessageView view));
        Assert.Equal("lobby", Text(view.Room));
        Assert.Equal("ünï", Text(view.FromUser));
        Assert.Equal("c-7", Text(view.FromConn));
        Assert.Equal(payload, view.Payload.ToArray());
        Assert.Equal(42UL, view.Offset);
    }

    [Fact]
    public void TryReadMessage_is_false_for_every_other_op()
    {
        foreach ((string name, byte[] frame) in SampleFrames.Server)
        {
            bool isMessage = ServerMessageDecoder.TryReadMessage(new ReadOnlySequence<byte>(BodyOf(frame)), out _);
            Assert.True(isMessage == name.StartsWith("message", StringComparison.Ordinal), name);
        }
    }

    [Fact]
    public void CountState()
    {
        Assert.Equal(new CountStateMessage(7, "lobby", 100_000, 70_000),
            RoundTrip<CountStateMessage>(b => ServerFrames.CountState(b, 7, "lobby", 100_000, 70_000)));
    }

    [Fact]
    public void OnlineState_with_users_and_empty()
    {
        OnlineStateMessage m = RoundTrip<OnlineStateMessage>(b =>
        {
            MessagePackWriter w = ServerFrames.BeginOnlineState(b, 8, 3, out int start);
            foreach (string user in new[] { "alice", "ünï", "🎮" }) w.WriteString(user);
            ServerFrames.EndFrame(b, ref w, start);
        });
        Assert.Equal(8u, m.Rid);
        Assert.Equal(new[] { "alice", "ünï", "🎮" }, m.Online);
        OnlineStateMessage empty = RoundTrip<OnlineStateMessage>(b =>
        {
            MessagePackWriter w = ServerFrames.BeginOnlineState(b, 9, 0, out int start);
            ServerFrames.EndFrame(b, ref w, start);
        });
        Assert.Empty(empty.Online);
    }

    [Fact]
    public void Member_with_extra_fields_is_accepted()
    {
        byte[] body = new Raw().FixArray(5).FixInt(68).FixInt(1).FixStr("r").FixArray(1)
            .FixArray(4).FixStr("u").FixStr("c").Nil().FixStr("future").FixInt(1).ToArray();
        PresenceStateMessage m = Assert.IsType<PresenceStateMessage>(DecodeServer(body));
        AssertMember(Assert.Single(m.Members), "u", "c", null);
    }

    [Fact]
    public void Trailing_extra_elements_are_ignored_for_every_op()
    {
        foreach ((string name, byte[] frame) in SampleFrames.Server)
        {
            byte[] body = BodyOf(frame);
            byte[] extended = ClientRequestDecoderTests.WithExtraElements(body, new Raw().Nil().FixArray(1).FixInt(3).ToArray(), 2);
            Assert.True(Describe(DecodeServer(body)) == Describe(DecodeServer(extended)), name);
        }
    }

    private static void AssertMember(Member member, string user, string conn, byte[]? meta)
    {
        Assert.Equal(user, member.User);
        Assert.Equal(conn, member.Conn);
        Assert.Equal(meta, member.Meta);
    }
}
