using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;

namespace PresenceD.Protocol.Tests.TestSupport;

/// <summary>Valid frames of every op, with optional fields present, nil and absent: the corpus for framing, segmentation and fuzz tests.</summary>
internal static class SampleFrames
{
    public const string UnicodeRoom = "salon-é-部屋-🎮";

    public static IReadOnlyList<(string Name, byte[] Frame)> Client { get; } =
    [
        ("hello", Encoded.Frame(b => ClientFrames.Hello(b, 1, "alice", "unity/1.2"))),
        ("hello-nil-credential-no-client", Encoded.Frame(b => ClientFrames.Hello(b, 2, null, null))),
        ("join-minimal", Encoded.Frame(b => ClientFrames.Join(b, 3, "lobby"))),
        ("join-meta", Encoded.Frame(b => ClientFrames.Join(b, 4, "lobby", [1, 2, 3], hasMeta: true))),
        ("join-since", Encoded.Frame(b => ClientFrames.Join(b, 5, UnicodeRoom, sinceEpoch: "ep-1", sinceOffset: 1UL << 40))),
        ("join-all", Encoded.Frame(b => ClientFrames.Join(b, 6, "r", Encoded.Pattern(300), true, "e", 7, Encoded.Pattern(70000), true))),
        ("join-nil-meta-will", Encoded.Frame(b => ClientFrames.Join(b, 7, "r", default, false, null, 0, [9], true))),
        ("leave", Encoded.Frame(b => ClientFrames.Leave(b, 8, "lobby"))),
        ("publish", Encoded.Frame(b => ClientFrames.Publish(b, 9, "lobby", Encoded.Pattern(64)))),
        ("publish-rid0-empty", Encoded.Frame(b => ClientFrames.Publish(b, 0, UnicodeRoom, []))),
        ("update", Encoded.Frame(b => ClientFrames.Update(b, 10, "lobby", [5], true))),
        ("update-nil", Encoded.Frame(b => ClientFrames.Update(b, uint.MaxValue, "lobby", default, false))),
        ("presence", Encoded.Frame(b => ClientFrames.Presence(b, 11, "lobby"))),
        ("presence-limit", Encoded.Frame(b => ClientFrames.Presence(b, 12, "lobby", 1000))),
        ("count", Encoded.Frame(b => ClientFrames.Count(b, 13, "lobby"))),
        ("ping", Encoded.Frame(b => ClientFrames.Ping(b, 14))),
        ("bye", Encoded.Frame(ClientFrames.Bye)),
        ("online", Encoded.Frame(b => ClientFrames.Online(b, 15, ["alice", "bob", "ünï"]))),
        ("online-empty", Encoded.Frame(b => ClientFrames.Online(b, 16, []))),
        ("hello-features", Encoded.Frame(b => ClientFrames.Hello(b, 17, "alice", "unity/1.2", resume: "", features: ProtocolFeatures.Refresh))),
        ("refresh", Encoded.Frame(b => ClientFrames.Refresh(b, 18, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"))),
    ];

    public static IReadOnlyList<(string Name, byte[] Frame)> Server { get; } =
    [
        // With the resume fields and features: elements after them are the trailing ones (an 8-element WELCOME is decoded in ServerMessageDecoderTests).
        ("welcome", Encoded.Frame(b => ServerFrames.Welcome(b, 1, "alice", "c-1", "node-a", 5000, 15000, 65536, "tok.c-1", 10000, true, ProtocolFeatures.Refresh))),
        ("welcome with left", Encoded.Frame(b => ServerFrames.Welcome(b, 1, "alice", "c-1", "node-a", 5000, 15000, 65536, "tok.c-1", 10000, true, null, ["b", "c"]))),
        ("ok", Encoded.Frame(b => ServerFrames.Ok(b, 2))),
        ("error", Encoded.Frame(b => ServerFrames.Error(b, 3, ErrorCode.NotJoined, "not joined"))),
        ("joined", Encoded.Frame(b => Joined(b, 4, recovered: true, ("alice", "c-1", [1]), ("bob", "c-2", null)))),
        ("joined-empty", Encoded.Frame(b => Joined(b, 5, recovered: false))),
        ("presence-state", Encoded.Frame(b =>
        {
            MessagePackWriter w = ServerFrames.BeginPresenceState(b, 6, "lobby", 1, out int start);
            ServerFrames.WriteMember(ref w, "alice", "c-1", default, false);
            ServerFrames.EndPresenceState(b, ref w, start, 42);
        })),
        ("presence-diff", Encoded.Frame(b =>
        {
            MessagePackWriter w = ServerFrames.BeginPresenceDiff(b, UnicodeRoom, 1, out int start);
            ServerFrames.WriteMember(ref w, "bob", "c-2", [7, 7], true);
            ServerFrames.WriteDiffLeavesHeader(ref w, 2);
            ServerFrames.WriteMember(ref w, "bob", "c-2", default, false);
            ServerFrames.WriteMember(ref w, "eve", "c-9", [], true);
            ServerFrames.EndFrame(b, ref w, start);
        })),
        ("message", Encoded.Frame(b => ServerFrames.Message(b, "lobby", "alice", "c-1", Encoded.Pattern(64), 17))),
        ("message-big", Encoded.Frame(b => ServerFrames.Message(b, "lobby", "alice", "c-1", Encoded.Pattern(100_000), (1UL << 53) - 1))),
        ("count-state", Encoded.Frame(b => ServerFrames.CountState(b, 7, "lobby", 100_000, 70_000))),
        ("pong", Encoded.Frame(b => ServerFrames.Pong(b, 0))),
        ("goaway", Encoded.Frame(b => ServerFrames.GoAway(b, ErrorCode.Shutdown, "draining", 2500))),
        ("online-state", Encoded.Frame(b =>
        {
            MessagePackWriter w = ServerFrames.BeginOnlineState(b, 8, 2, out int start);
            w.WriteString("alice");
            w.WriteString("ünï");
            ServerFrames.EndFrame(b, ref w, start);
        })),
        ("refreshed", Encoded.Frame(b =>
        {
            MessagePackWriter w = ServerFrames.BeginRefreshed(b, 10, 1_900_000_000, 2, out int start);
            w.WriteString("game:1");
            w.WriteString(UnicodeRoom);
            ServerFrames.EndFrame(b, ref w, start);
        })),
    ];

    private static void Joined(FrameBuffer b, uint rid, bool recovered, params (string User, string Conn, byte[]? Meta)[] members)
    {
        MessagePackWriter w = ServerFrames.BeginJoined(b, rid, "lobby", "epoch-1", 99, members.Length, out int start);
        foreach ((string user, string conn, byte[]? meta) in members) ServerFrames.WriteMember(ref w, user, conn, meta, meta is not null);
        ServerFrames.EndJoined(b, ref w, start, recovered, members.Length + 10);
    }
}
