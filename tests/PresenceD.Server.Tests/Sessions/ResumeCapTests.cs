using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Sessions;

/// <summary>
/// resume_max_sessions over real sockets: past the cap a resumable connection that drops is not suspended but ends the
/// normal way (its will, then its leave), counted as refused and logged once, not once per drop; a resume frees its place.
/// </summary>
public sealed class ResumeCapTests
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromMilliseconds(100);

    private static TestServer Start(int cap) => TestServer.StartWithDiagnostics(o =>
    {
        o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
        o.HeartbeatTimeout = TimeSpan.FromMilliseconds(800);
        o.ResumeWindow = TimeSpan.FromSeconds(30);
        o.ResumeMaxSessions = cap;
    });

    /// <summary>A resumable member of <paramref name="room"/> with the will <paramref name="user"/>-gone; the watcher saw it join.</summary>
    private static async Task<TestClient> MemberAsync(TestServer server, TestClient watcher, string room, string user)
    {
        TestClient member = await TestClient.HelloAsync(server.EndPoint, user, keepAlive: KeepAlive, resume: "");
        await member.SendAsync(b => ClientFrames.Join(b, 2, room, default, hasMeta: false, will: System.Text.Encoding.UTF8.GetBytes(user + "-gone"), hasWill: true));
        await member.ExpectAsync<JoinedMessage>();
        await watcher.ExpectAsync<PresenceDiffMessage>();
        return member;
    }

    private static string Text(RoomMessage m) => System.Text.Encoding.UTF8.GetString(m.Payload);

    /// <summary>The drop of <paramref name="member"/> past the cap: its will, then its leave, at once (not resume_window later).</summary>
    private static async Task ExpectEndedAsync(TestClient watcher, TestClient member, string user)
    {
        Assert.Equal(user + "-gone", Text(await watcher.ExpectAsync<RoomMessage>()));
        Assert.Equal(member.Conn, Assert.Single((await watcher.ExpectAsync<PresenceDiffMessage>()).Leaves).Conn);
    }

    [Fact]
    public async Task Past_resume_max_sessions_a_drop_ends_the_session_at_once_counted_and_logged_once_and_a_resume_frees_the_place()
    {
        await using TestServer server = Start(cap: 1);
        await using TestClient watcher = await TestClient.HelloAsync(server.EndPoint, "watcher", keepAlive: KeepAlive);
        await watcher.SendAsync(b => ClientFrames.Join(b, 2, "cap"));
        await watcher.ExpectAsync<JoinedMessage>();
        TestClient alice = await MemberAsync(server, watcher, "cap", "alice");
        TestClient bob = await MemberAsync(server, watcher, "cap", "bob");
        TestClient carol = await MemberAsync(server, watcher, "cap", "carol");

        alice.Abort();
        await Eventually.TrueAsync(() => server.Server.ResumeCounters.Suspended == 1, "alice suspended");
        Assert.Equal(1, server.Server.ResumeCounters.SuspendedNow);

        // The cap is taken: bob's and carol's drops end their sessions the normal way, now.
        bob.Abort();
        await ExpectEndedAsync(watcher, bob, "bob");
        await carol.DisposeAsync();
        await ExpectEndedAsync(watcher, carol, "carol");
        Assert.Equal(2, server.Server.ResumeCounters.Refused);
        Assert.Equal(1, server.Server.ResumeCounters.Suspended);
        Assert.Contains("presenced_sessions_refused_total 2", server.Exporter.Scrape());
        Assert.Contains("presenced_sessions_suspended 1", server.Exporter.Scrape());
        await server.Log.WaitForAsync(TimeSpan.FromSeconds(10), "resume_max_sessions 1", bob.Conn);
        Assert.Single(server.Log.Lines, line => line.Contains("resume_max_sessions", StringComparison.Ordinal));
        await using TestClient bobBack = await TestClient.HelloAsync(server.EndPoint, "bob", resume: bob.Welcome!.ResumeToken);
        Assert.False(bobBack.Welcome!.Resumed);

        // Alice, suspended, resumes as ever (nobody saw a diff for her), and her place is free again.
        TestClient aliceBack = await TestClient.HelloAsync(server.EndPoint, "alice", keepAlive: KeepAlive, resume: alice.Welcome!.ResumeToken);
        Assert.True(aliceBack.Welcome!.Resumed);
        Assert.Equal(0, server.Server.ResumeCounters.SuspendedNow);
        aliceBack.Abort();
        await Eventually.TrueAsync(() => server.Server.ResumeCounters.Suspended == 2, "alice suspended again");
        Assert.Equal(2, server.Server.ResumeCounters.Refused);
        await watcher.SendAsync(b => ClientFrames.Ping(b, 9));
        Assert.Equal(9u, (await watcher.ExpectAsync<PongMessage>()).Rid);
    }

    [Fact]
    public async Task Resume_max_sessions_0_caps_nothing()
    {
        await using TestServer server = Start(cap: 0);
        await using TestClient watcher = await TestClient.HelloAsync(server.EndPoint, "watcher", keepAlive: KeepAlive);
        await watcher.SendAsync(b => ClientFrames.Join(b, 2, "nocap"));
        await watcher.ExpectAsync<JoinedMessage>();
        TestClient alice = await MemberAsync(server, watcher, "nocap", "alice");
        TestClient bob = await MemberAsync(server, watcher, "nocap", "bob");
        alice.Abort();
        bob.Abort();
        await Eventually.TrueAsync(() => server.Server.ResumeCounters.Suspended == 2, "both suspended");
        Assert.Equal(0, server.Server.ResumeCounters.Refused);
        await watcher.SendAsync(b => ClientFrames.Ping(b, 9));
        Assert.Equal(9u, (await watcher.ExpectAsync<PongMessage>()).Rid);
    }
}
