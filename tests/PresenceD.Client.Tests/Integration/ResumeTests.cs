using System.Text;
using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

/// <summary>The client resumes its session by itself after a dropped connection, against a real daemon.</summary>
public sealed class ResumeTests
{
    private static PresenceClientOptions Options(DaemonProcess daemon, string user, double initialBackoffMs = 50) => new PresenceClientOptions
    {
        Credential = user,
        RequestTimeout = TimeSpan.FromSeconds(5),
        Backoff = new BackoffPolicy { Initial = TimeSpan.FromMilliseconds(initialBackoffMs), Max = TimeSpan.FromMilliseconds(500), Jitter = 0 },
    }.WithServer(daemon.Address);

    [Fact]
    public async Task A_dropped_connection_resumes_with_its_rooms_models_and_the_messages_sent_meanwhile_and_nobody_sees_a_leave()
    {
        await using DaemonProcess daemon = await DaemonProcess.StartAsync("--resume-window", "30s");
        // A one-second back-off leaves time to publish while alice is away.
        await using var alice = new PresenceClient(Options(daemon, "alice", initialBackoffMs: 1000));
        var aliceLog = new ClientEventLog(alice);
        await using var bob = new PresenceClient(Options(daemon, "bob"));
        var bobLog = new ClientEventLog(bob);
        WelcomeMessage welcome = await alice.ConnectAsync();
        Assert.Equal(30_000, welcome.ResumeWindowMs);
        await bob.ConnectAsync();
        await alice.JoinAsync("chat", meta: Encoding.UTF8.GetBytes("idle"));
        await bob.JoinAsync("chat");
        await aliceLog.WaitForAsync<PresenceChangedEventArgs>(p => p.Joined.Any(m => m.User == "bob"));

        alice.AbortConnection();
        await aliceLog.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Current == ConnectionState.Reconnecting);
        // The server noticed the drop (and suspended the session) before anything is published to it.
        await daemon.WaitForLineAsync(TimeSpan.FromSeconds(10), welcome.Conn, "closed:");
        await bob.PublishAsync("chat", Encoding.UTF8.GetBytes("1"));
        await bob.PublishAsync("chat", Encoding.UTF8.GetBytes("2"));

        ConnectionStateChangedEventArgs back = await aliceLog.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Previous == ConnectionState.Reconnecting && s.Current == ConnectionState.Connected);
        Assert.True(back.Resumed);
        Assert.True(alice.Welcome!.Resumed);
        Assert.Equal(welcome.Conn, alice.Welcome.Conn);
        await aliceLog.WaitForAsync<RoomMessageEventArgs>(m => Encoding.UTF8.GetString(m.Payload) == "2");
        Assert.Equal(["1", "2"], aliceLog.OfType<RoomMessageEventArgs>().Select(m => Encoding.UTF8.GetString(m.Payload)));
        Assert.Empty(aliceLog.OfType<RoomRejoinedEventArgs>());
        RoomPresence room = alice.GetPresence("chat")!;
        Assert.Equal(["alice", "bob"], room.Users.Order());
        Assert.Contains(room.Members, m => m.Conn == welcome.Conn);

        // Bob never saw alice leave: his next presence change is the meta she sets now.
        await alice.UpdateAsync("chat", Encoding.UTF8.GetBytes("back"));
        PresenceChangedEventArgs update = await bobLog.WaitForAsync<PresenceChangedEventArgs>(p => p.Updated.Count > 0);
        Assert.Equal(welcome.Conn, Assert.Single(update.Updated).Conn);
        Assert.Single(bobLog.OfType<PresenceChangedEventArgs>(), p => !p.IsSnapshot);
    }

    [Fact]
    public async Task After_the_window_the_client_gets_a_fresh_session_and_rejoins_its_rooms()
    {
        await using DaemonProcess daemon = await DaemonProcess.StartAsync("--resume-window", "200ms");
        await using var alice = new PresenceClient(Options(daemon, "alice", initialBackoffMs: 1500));
        var log = new ClientEventLog(alice);
        WelcomeMessage welcome = await alice.ConnectAsync();
        await alice.JoinAsync("chat");
        alice.AbortConnection();
        ConnectionStateChangedEventArgs back = await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Previous == ConnectionState.Reconnecting && s.Current == ConnectionState.Connected);
        Assert.False(back.Resumed);
        Assert.NotEqual(welcome.Conn, alice.Welcome!.Conn);
        await log.WaitForAsync<RoomRejoinedEventArgs>(r => r.Room == "chat");
    }
}
