using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

public sealed class PresenceEventsTests : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private PresenceClient Client(string user) => new(new PresenceClientOptions { Credential = user, AutoReconnect = false }.WithServer(_daemon.Address));

    [Fact]
    public async Task Two_connections_of_one_user_make_one_online_and_one_offline_event()
    {
        await using PresenceClient observer = Client("observer");
        var log = new ClientEventLog(observer);
        await observer.ConnectAsync();
        await observer.JoinAsync("team");
        PresenceClient phone = Client("alice"), laptop = Client("alice");
        await phone.ConnectAsync();
        await laptop.ConnectAsync();

        await phone.JoinAsync("team");
        await log.WaitForAsync<UserPresenceEventArgs>(u => u.User == "alice" && u.Online);
        await laptop.JoinAsync("team");
        await log.WaitForAsync<PresenceChangedEventArgs>(p => p.Joined.Any(m => m.Conn == laptop.Welcome!.Conn));
        Assert.Equal(2, observer.GetPresence("team")!.ConnectionsOf("alice"));

        await phone.LeaveAsync("team");
        await log.WaitForAsync<PresenceChangedEventArgs>(p => p.Left.Any(m => m.Conn == phone.Welcome!.Conn));
        Assert.True(observer.GetPresence("team")!.IsUserOnline("alice"));

        await laptop.CloseAsync();
        await log.WaitForAsync<UserPresenceEventArgs>(u => u.User == "alice" && !u.Online);
        await phone.CloseAsync();

        Assert.Equal([true, false], log.OfType<UserPresenceEventArgs>().Where(u => u.User == "alice").Select(u => u.Online));
        Assert.False(observer.GetPresence("team")!.IsUserOnline("alice"));
        Assert.Equal(1, observer.GetPresence("team")!.Total);
    }

    [Fact]
    public async Task Meta_updates_show_as_updates_and_the_model_follows()
    {
        await using PresenceClient observer = Client("observer");
        var log = new ClientEventLog(observer);
        await observer.ConnectAsync();
        await observer.JoinAsync("meta");
        await using PresenceClient bob = Client("bob");
        await bob.ConnectAsync();
        await bob.JoinAsync("meta", "idle"u8.ToArray());

        await bob.UpdateAsync("meta", "typing"u8.ToArray());

        PresenceChangedEventArgs update = await log.WaitForAsync<PresenceChangedEventArgs>(p => p.Updated.Count == 1);
        Assert.Equal("typing"u8.ToArray(), update.Updated[0].Meta);
        Assert.Equal([true], log.OfType<UserPresenceEventArgs>().Where(u => u.User == "bob").Select(u => u.Online));
        Assert.Equal("typing"u8.ToArray(), observer.GetPresence("meta")!.Members.Single(m => m.User == "bob").Meta);
    }

    [Fact]
    public async Task Errors_are_typed_and_queries_answer()
    {
        await using PresenceClient client = Client("dave");
        await client.ConnectAsync();

        var notJoined = await Assert.ThrowsAsync<PresenceRequestException>(() => client.PublishAsync("nowhere", new byte[] { 1 }));
        Assert.Equal(ErrorCode.NotJoined, notJoined.Code);
        var bad = await Assert.ThrowsAsync<PresenceRequestException>(() => client.JoinAsync(""));
        Assert.Equal(ErrorCode.BadRequest, bad.Code);
        Assert.Empty(client.JoinedRooms);

        await client.JoinAsync("q");
        CountStateMessage count = await client.CountAsync("q");
        Assert.Equal((1, 1), (count.Connections, count.Users));
        Assert.Equal(["dave"], await client.OnlineAsync(["dave", "nobody"]));
        Assert.True(await client.PingAsync() >= TimeSpan.Zero);
    }

    [Fact]
    public async Task Connecting_to_a_closed_port_fails_with_a_connection_error()
    {
        var client = new PresenceClient(new PresenceClientOptions { Credential = "x", Port = Ports.Free() });
        await Assert.ThrowsAsync<PresenceConnectionException>(() => client.ConnectAsync());
        Assert.Equal(ConnectionState.Disconnected, client.State);
        await client.CloseAsync();
    }
}
