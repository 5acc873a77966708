using System.Text;
using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

public sealed class ReconnectTests
{
    // Not resumable: these tests are about the re-join path a lost session takes.
    private static PresenceClientOptions Options(DaemonProcess daemon, string user, double initialBackoffMs = 50) => new PresenceClientOptions
    {
        Credential = user,
        Resumable = false,
        RequestTimeout = TimeSpan.FromSeconds(5),
        Backoff = new BackoffPolicy { Initial = TimeSpan.FromMilliseconds(initialBackoffMs), Max = TimeSpan.FromMilliseconds(500), Jitter = 0 },
    }.WithServer(daemon.Address);

    [Fact]
    public async Task After_the_server_restarts_the_client_reconnects_and_rejoins_its_rooms()
    {
        await using DaemonProcess daemon = await DaemonProcess.StartAsync("--history-rooms", "h*");
        await using var client = new PresenceClient(Options(daemon, "alice"));
        var log = new ClientEventLog(client);
        await client.ConnectAsync();
        JoinedMessage first = await client.JoinAsync("h-lobby");
        await client.JoinAsync("plain");

        await daemon.RestartAsync();

        await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Current == ConnectionState.Reconnecting);
        await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Previous == ConnectionState.Reconnecting && s.Current == ConnectionState.Connected);
        RoomRejoinedEventArgs history = await log.WaitForAsync<RoomRejoinedEventArgs>(r => r.Room == "h-lobby");
        RoomRejoinedEventArgs plain = await log.WaitForAsync<RoomRejoinedEventArgs>(r => r.Room == "plain");
        Assert.Null(history.Error);
        Assert.False(history.Recovered, "a restarted standalone server has lost its history");
        Assert.NotEqual(first.Epoch, history.Epoch);
        Assert.False(plain.Recovered);
        Assert.Equal(ConnectionState.Connected, client.State);
        Assert.Equal(["h-lobby", "plain"], client.JoinedRooms.Order());

        // The re-joined membership is real: another client sees alice and reaches her.
        await using var bob = new PresenceClient(Options(daemon, "bob"));
        await bob.ConnectAsync();
        JoinedMessage seen = await bob.JoinAsync("plain");
        Assert.Contains(seen.Members, m => m.User == "alice");
        await bob.PublishAsync("plain", Encoding.UTF8.GetBytes("welcome back"));
        RoomMessageEventArgs message = await log.WaitForAsync<RoomMessageEventArgs>(m => m.Room == "plain");
        Assert.Equal("welcome back", Encoding.UTF8.GetString(message.Payload));
    }

    [Fact]
    public async Task A_lost_connection_rejoins_with_since_and_recovers_the_missed_messages()
    {
        await using DaemonProcess daemon = await DaemonProcess.StartAsync("--history-rooms", "h*");
        // A one-second back-off leaves time to publish while alice is away.
        await using var alice = new PresenceClient(Options(daemon, "alice", initialBackoffMs: 1000));
        var log = new ClientEventLog(alice);
        await using var bob = new PresenceClient(Options(daemon, "bob"));
        await alice.ConnectAsync();
        await bob.ConnectAsync();
        await alice.JoinAsync("h-chat");
        await bob.JoinAsync("h-chat");
        await bob.PublishAsync("h-chat", Encoding.UTF8.GetBytes("1"));
        await log.WaitForAsync<RoomMessageEventArgs>(m => m.Offset == 1);

        alice.AbortConnection();
        await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Current == ConnectionState.Reconnecting);
        await bob.PublishAsync("h-chat", Encoding.UTF8.GetBytes("2"));
        await bob.PublishAsync("h-chat", Encoding.UTF8.GetBytes("3"));

        RoomRejoinedEventArgs rejoined = await log.WaitForAsync<RoomRejoinedEventArgs>(r => r.Room == "h-chat");
        Assert.True(rejoined.Recovered);
        await log.WaitForAsync<RoomMessageEventArgs>(m => m.Offset == 3);
        Assert.Equal(["1", "2", "3"], log.OfType<RoomMessageEventArgs>().Select(m => Encoding.UTF8.GetString(m.Payload)));
        Assert.Equal([1UL, 2UL, 3UL], log.OfType<RoomMessageEventArgs>().Select(m => m.Offset));
    }

    [Fact]
    public async Task A_draining_server_sends_goaway_shutdown_and_the_client_comes_back_when_it_returns()
    {
        await using DaemonProcess daemon = await DaemonProcess.StartAsync("--drain-timeout", "2s");
        await using var client = new PresenceClient(Options(daemon, "carol"));
        var log = new ClientEventLog(client);
        await client.ConnectAsync();
        await client.JoinAsync("room");

        await daemon.TerminateAsync();
        ConnectionStateChangedEventArgs lost = await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Current == ConnectionState.Reconnecting);
        Assert.Equal(ErrorCode.Shutdown, Assert.IsType<PresenceConnectionException>(lost.Reason).GoAwayCode);

        await daemon.RestartAsync();
        await log.WaitForAsync<RoomRejoinedEventArgs>(r => r.Room == "room", seconds: 30);
        Assert.Equal(ConnectionState.Connected, client.State);
    }
}
