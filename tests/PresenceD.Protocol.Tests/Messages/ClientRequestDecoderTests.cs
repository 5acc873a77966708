using System.Buffers;
using PresenceD.Protocol.Messages;
using PresenceD.Protocol.Tests.TestSupport;
using static PresenceD.Protocol.Tests.TestSupport.Encoded;

namespace PresenceD.Protocol.Tests.Messages;

/// <summary>Every client op encoded with <see cref="ClientFrames"/>, framed, read back and decoded field by field.</summary>
public sealed class ClientRequestDecoderTests
{
    private static ClientRequest RoundTrip(Action<PresenceD.Protocol.Framing.FrameBuffer> encode) => DecodeClient(Body(encode));

    [Fact]
    public void Hello_with_credential_and_client()
    {
        ClientRequest r = RoundTrip(b => ClientFrames.Hello(b, 7, "eyJhbGciOi.x.y", "game/2.0 ü"));
        Assert.Equal(OpCode.Hello, r.Op);
        Assert.Equal(7u, r.Rid);
        Assert.Equal(1, r.Version);
        Assert.True(r.HasCredential);
        Assert.Equal("eyJhbGciOi.x.y", Text(r.Credential));
        Assert.Equal("game/2.0 ü", Text(r.ClientName));
    }

    [Fact]
    public void Hello_without_resume_has_none_and_with_one_carries_it()
    {
        Assert.False(RoundTrip(b => ClientFrames.Hello(b, 1, "alice", "c")).HasResume);
        ClientRequest asking = RoundTrip(b => ClientFrames.Hello(b, 1, "alice", null, resume: ""));
        Assert.True(asking.HasResume);
        Assert.Equal(0, asking.ResumeToken.Length);
        Assert.Equal(0, asking.ClientName.Length);
        ClientRequest resuming = RoundTrip(b => ClientFrames.Hello(b, 1, "alice", "c", resume: "tok.n1-x-2"));
        Assert.Equal("tok.n1-x-2", Text(resuming.ResumeToken));
        Assert.Equal("c", Text(resuming.ClientName));
    }

    [Fact]
    public void Hello_resume_that_is_not_a_str_or_nil_is_a_protocol_error()
    {
        byte[] body = new Raw().FixArray(6).FixInt(1).FixInt(1).FixInt(1).FixStr("a").Nil().FixInt(7).ToArray();
        Assert.Throws<ProtocolException>(() => DecodeClient(body));
        byte[] nil = new Raw().FixArray(6).FixInt(1).FixInt(1).FixInt(1).FixStr("a").Nil().Nil().ToArray();
        Assert.False(DecodeClient(nil).HasResume);
    }

    [Fact]
    public void Hello_features_are_a_uint32_or_nil_and_written_with_a_nil_resume_when_none_is_asked()
    {
        Assert.False(RoundTrip(b => ClientFrames.Hello(b, 1, "alice", "c", resume: "")).HasFeatures);
        ClientRequest knows = RoundTrip(b => ClientFrames.Hello(b, 1, "alice", null, features: ProtocolFeatures.Refresh));
        Assert.Equal((true, ProtocolFeatures.Refresh, false), (knows.HasFeatures, knows.Features, knows.HasResume));
        ClientRequest both = RoundTrip(b => ClientFrames.Hello(b, 1, "alice", "c", resume: "tok", features: 5));
        Assert.Equal((5u, "tok", "c"), (both.Features, Text(both.ResumeToken), Text(both.ClientName)));
        Assert.False(DecodeClient(new Raw().FixArray(7).FixInt(1).FixInt(1).FixInt(1).FixStr("a").Nil().Nil().Nil().ToArray()).HasFeatures);
        Assert.Throws<ProtocolException>(() => DecodeClient(new Raw().FixArray(7).FixInt(1).FixInt(1).FixInt(1).FixStr("a").Nil().Nil().FixStr("1").ToArray()));
        Assert.Throws<ProtocolException>(() => DecodeClient(new Raw().FixArray(7).FixInt(1).FixInt(1).FixInt(1).FixStr("a").Nil().Nil().FixInt(-1).ToArray()));
    }

    [Fact]
    public void Refresh_carries_its_credential_and_refuses_nil_or_a_missing_one()
    {
        ClientRequest refresh = RoundTrip(b => ClientFrames.Refresh(b, 9, "h.c.s"));
        Assert.Equal((OpCode.Refresh, 9u, true, "h.c.s"), (refresh.Op, refresh.Rid, refresh.HasCredential, Text(refresh.Credential)));
        Assert.Throws<ProtocolException>(() => DecodeClient(new Raw().FixArray(3).FixInt(11).FixInt(9).Nil().ToArray()));
        Assert.Throws<ProtocolException>(() => DecodeClient(new Raw().FixArray(2).FixInt(11).FixInt(9).ToArray()));
        Assert.Throws<ProtocolException>(() => DecodeClient(new Raw().FixArray(3).FixInt(11).FixInt(9).Bytes(0xc4, 1, 0x41).ToArray()));
    }

    [Fact]
    public void Hello_with_nil_credential_and_absent_client()
    {
        byte[] body = Body(b => ClientFrames.Hello(b, uint.MaxValue, null, null, version: 300));
        Assert.Equal(0x94, body[0]);
        ClientRequest r = DecodeClient(body);
        Assert.Equal(uint.MaxValue, r.Rid);
        Assert.Equal(300, r.Version);
        Assert.False(r.HasCredential);
        Assert.True(r.Credential.IsEmpty);
        Assert.True(r.ClientName.IsEmpty);
    }

    [Fact]
    public void Hello_with_nil_client_element()
    {
        ClientRequest r = DecodeClient(new Raw().FixArray(5).FixInt(1).FixInt(3).FixInt(1).FixStr("bob").Nil().ToArray());
        Assert.True(r.HasCredential);
        Assert.Equal("bob", Text(r.Credential));
        Assert.True(r.ClientName.IsEmpty);
    }

    [Fact]
    public void Join_minimal_has_no_optional_fields()
    {
        byte[] body = Body(b => ClientFrames.Join(b, 1, "lobby"));
        Assert.Equal(0x93, body[0]);
        ClientRequest r = DecodeClient(body);
        Assert.Equal(OpCode.Join, r.Op);
        Assert.Equal(1u, r.Rid);
        Assert.Equal("lobby", Text(r.Room));
        Assert.False(r.HasMeta);
        Assert.False(r.HasSince);
        Assert.False(r.HasWill);
    }

    [Fact]
    public void Join_with_meta_only()
    {
        ClientRequest r = RoundTrip(b => ClientFrames.Join(b, 2, "lobby", [0xca, 0xfe], hasMeta: true));
        Assert.True(r.HasMeta);
        Assert.Equal(new byte[] { 0xca, 0xfe }, r.Meta.ToArray());
        Assert.False(r.HasSince);
        Assert.False(r.HasWill);
    }

    [Fact]
    public void Join_with_empty_meta_is_present_not_nil()
    {
        ClientRequest r = RoundTrip(b => ClientFrames.Join(b, 2, "lobby", [], hasMeta: true));
        Assert.True(r.HasMeta);
        Assert.True(r.Meta.IsEmpty);
    }

    [Fact]
    public void Join_with_since_and_nil_meta()
    {
        ClientRequest r = RoundTrip(b => ClientFrames.Join(b, 3, SampleFrames.UnicodeRoom, sinceEpoch: "ep-7", sinceOffset: (1UL << 53) - 1));
        Assert.Equal(SampleFrames.UnicodeRoom, Text(r.Room));
        Assert.False(r.HasMeta);
        Assert.True(r.HasSince);
        Assert.Equal("ep-7", Text(r.SinceEpoch));
        Assert.Equal((1UL << 53) - 1, r.SinceOffset);
        Assert.False(r.HasWill);
    }

    [Fact]
    public void Join_with_will_and_nil_since()
    {
        byte[] will = Pattern(70_000);
        ClientRequest r = RoundTrip(b => ClientFrames.Join(b, 4, "r", [1], true, null, 0, will, hasWill: true));
        Assert.True(r.HasMeta);
        Assert.False(r.HasSince);
        Assert.True(r.HasWill);
        Assert.Equal(will, r.Will.ToArray());
    }

    [Fact]
    public void Join_with_every_field()
    {
        byte[] meta = Pattern(1024, 3);
        ClientRequest r = RoundTrip(b => ClientFrames.Join(b, 5, "room", meta, true, "", 0, [4, 2], true));
        Assert.Equal(meta, r.Meta.ToArray());
        Assert.True(r.HasSince);
        Assert.True(r.SinceEpoch.IsEmpty);
        Assert.Equal(0UL, r.SinceOffset);
        Assert.Equal(new byte[] { 4, 2 }, r.Will.ToArray());
    }

    [Fact]
    public void Join_with_since_of_three_elements_skips_the_extra()
    {
        ClientRequest r = DecodeClient(new Raw().FixArray(5).FixInt(2).FixInt(1).FixStr("r").Nil()
            .FixArray(3).FixStr("ep").U16(300).FixStr("later").ToArray());
        Assert.True(r.HasSince);
        Assert.Equal("ep", Text(r.SinceEpoch));
        Assert.Equal(300UL, r.SinceOffset);
    }

    [Fact]
    public void Leave_and_count()
    {
        ClientRequest leave = RoundTrip(b => ClientFrames.Leave(b, 9, "lobby"));
        Assert.Equal(OpCode.Leave, leave.Op);
        Assert.Equal(9u, leave.Rid);
        Assert.Equal("lobby", Text(leave.Room));
        ClientRequest count = RoundTrip(b => ClientFrames.Count(b, 10, SampleFrames.UnicodeRoom));
        Assert.Equal(OpCode.Count, count.Op);
        Assert.Equal(10u, count.Rid);
        Assert.Equal(SampleFrames.UnicodeRoom, Text(count.Room));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 64)]
    [InlineData(300, 255)]
    [InlineData(70_000, 256)]
    [InlineData(uint.MaxValue, 65_535)]
    [InlineData(12, 65_536)]
    [InlineData(13, 1_000_000)]
    public void Publish_payload_of_any_size(uint rid, int size)
    {
        byte[] payload = Pattern(size);
        ClientRequest r = RoundTrip(b => ClientFrames.Publish(b, rid, "lobby", payload));
        Assert.Equal(OpCode.Publish, r.Op);
        Assert.Equal(rid, r.Rid);
        Assert.Equal("lobby", Text(r.Room));
        Assert.Equal(payload, r.Payload.ToArray());
    }

    [Fact]
    public void Update_with_meta_and_with_nil()
    {
        ClientRequest with = RoundTrip(b => ClientFrames.Update(b, 11, "lobby", [9, 8, 7], true));
        Assert.Equal(OpCode.Update, with.Op);
        Assert.True(with.HasMeta);
        Assert.Equal(new byte[] { 9, 8, 7 }, with.Meta.ToArray());
        ClientRequest without = RoundTrip(b => ClientFrames.Update(b, 12, "lobby", default, false));
        Assert.Equal(12u, without.Rid);
        Assert.False(without.HasMeta);
    }

    [Fact]
    public void Update_with_meta_absent()
    {
        ClientRequest r = DecodeClient(new Raw().FixArray(3).FixInt(5).FixInt(1).FixStr("lobby").ToArray());
        Assert.Equal(OpCode.Update, r.Op);
        Assert.False(r.HasMeta);
    }

    [Fact]
    public void Presence_with_limit_absent_nil_zero_and_max()
    {
        ClientRequest absent = RoundTrip(b => ClientFrames.Presence(b, 13, "lobby"));
        Assert.Equal(OpCode.Presence, absent.Op);
        Assert.False(absent.HasLimit);
        ClientRequest zero = RoundTrip(b => ClientFrames.Presence(b, 14, "lobby", 0));
        Assert.True(zero.HasLimit);
        Assert.Equal(0u, zero.Limit);
        ClientRequest max = RoundTrip(b => ClientFrames.Presence(b, 15, "lobby", uint.MaxValue));
        Assert.Equal(uint.MaxValue, max.Limit);
        ClientRequest nil = DecodeClient(new Raw().FixArray(4).FixInt(6).FixInt(1).FixStr("lobby").Nil().ToArray());
        Assert.False(nil.HasLimit);
    }

    [Fact]
    public void Ping_and_bye()
    {
        ClientRequest ping = RoundTrip(b => ClientFrames.Ping(b, 0));
        Assert.Equal(OpCode.Ping, ping.Op);
        Assert.Equal(0u, ping.Rid);
        byte[] bye = Body(ClientFrames.Bye);
        Assert.Equal(new byte[] { 0x91, 0x09 }, bye);
        Assert.Equal(OpCode.Bye, DecodeClient(bye).Op);
    }

    [Fact]
    public void Online_lists_every_user_in_order()
    {
        string[] users = Enumerable.Range(0, 1000).Select(i => i % 3 == 0 ? $"ü-{i}" : $"user-{i}").ToArray();
        ClientRequest r = RoundTrip(b => ClientFrames.Online(b, 16, users));
        Assert.Equal(OpCode.Online, r.Op);
        Assert.Equal(16u, r.Rid);
        Assert.Equal(1000, r.UserCount);
        var decoded = new List<string>();
        foreach (ReadOnlySequence<byte> user in r.EnumerateUsers()) decoded.Add(Text(user));
        Assert.Equal(users, decoded);
    }

    [Fact]
    public void Online_with_no_users()
    {
        ClientRequest r = RoundTrip(b => ClientFrames.Online(b, 17, []));
        Assert.Equal(0, r.UserCount);
        foreach (ReadOnlySequence<byte> _ in r.EnumerateUsers()) Assert.Fail("no user expected");
    }

    [Fact]
    public void Trailing_extra_elements_are_ignored_for_every_op()
    {
        var fullCounts = new Dictionary<OpCode, int>
        {
            [OpCode.Hello] = 7, [OpCode.Join] = 6, [OpCode.Leave] = 3, [OpCode.Publish] = 4, [OpCode.Update] = 4,
            [OpCode.Presence] = 4, [OpCode.Count] = 3, [OpCode.Ping] = 2, [OpCode.Bye] = 1, [OpCode.Online] = 3,
            [OpCode.Refresh] = 3,
        };
        int tested = 0;
        foreach ((string name, byte[] frame) in SampleFrames.Client)
        {
            byte[] body = BodyOf(frame);
            // With optional fields left out, an extra element would stand in the place of the first of them.
            if ((body[0] & 0x0f) != fullCounts[DecodeClient(body).Op]) continue;
            tested++;
            byte[] extended = WithExtraElements(body, new Raw().FixStr("future").FixMap(1).FixInt(1).FixArray(0).F64(1.5).ToArray(), 3);
            Assert.True(Describe(DecodeClient(body)) == Describe(DecodeClient(extended)), name);
        }
        Assert.True(tested >= 10, $"only {tested} samples carry every field");
    }

    /// <summary>Rewrites the array header of <paramref name="body"/> (any width) to hold <paramref name="added"/> more elements.</summary>
    internal static byte[] WithExtraElements(byte[] body, byte[] extra, int added)
    {
        int count;
        int headerSize;
        if (body[0] >= 0x90 && body[0] <= 0x9f) { count = body[0] & 0x0f; headerSize = 1; }
        else if (body[0] == 0xdc) { count = (body[1] << 8) | body[2]; headerSize = 3; }
        else throw new ArgumentException("not an array body");
        return Sequences.Concat(new Raw().Array32((uint)(count + added)).ToArray(), body[headerSize..], extra);
    }
}
