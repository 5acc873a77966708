using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

/// <summary>Requests the server would refuse for their size are refused by the client, which stays connected.</summary>
public sealed class RequestLimitTests : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private PresenceClient Client(string user, int? metaMax = null)
    {
        var options = new PresenceClientOptions { Credential = user, AutoReconnect = false }.WithServer(_daemon.Address);
        if (metaMax is not null) options.MetaMax = metaMax.Value;
        return new PresenceClient(options);
    }

    [Fact]
    public async Task Oversized_publish_meta_and_names_are_refused_locally_and_the_client_stays_connected()
    {
        await using PresenceClient alice = Client("alice");
        await using PresenceClient bob = Client("bob");
        var log = new ClientEventLog(bob);
        await alice.ConnectAsync();
        await bob.ConnectAsync();
        await alice.JoinAsync("room");
        await bob.JoinAsync("room");
        byte[] overFrame = new byte[64 * 1024];

        var publish = await Assert.ThrowsAsync<PresenceTooLargeException>(() => alice.PublishAsync("room", overFrame));
        var fireAndForget = Assert.Throws<PresenceTooLargeException>(() => alice.Publish("room", overFrame));
        var update = await Assert.ThrowsAsync<PresenceTooLargeException>(() => alice.UpdateAsync("room", new byte[1025]));
        var joinMeta = await Assert.ThrowsAsync<PresenceTooLargeException>(() => alice.JoinAsync("other", meta: new byte[1025]));
        var name = await Assert.ThrowsAsync<PresenceTooLargeException>(() => alice.JoinAsync(new string('é', 65)));
        var online = await Assert.ThrowsAsync<PresenceTooLargeException>(() => alice.OnlineAsync([.. Enumerable.Range(0, 1000).Select(i => $"user-{i}-{new string('x', 100)}")]));

        Assert.Equal(("max_frame", 65536L), (publish.Limit, publish.MaxBytes));
        Assert.True(publish.ActualBytes > 64 * 1024);
        Assert.Equal("max_frame", fireAndForget.Limit);
        Assert.Equal(("meta_max", 1024L, 1025L), (update.Limit, update.MaxBytes, update.ActualBytes));
        Assert.Equal("meta_max", joinMeta.Limit);
        Assert.Equal(("name_max", 128L, 130L), (name.Limit, name.MaxBytes, name.ActualBytes));
        Assert.Equal("max_frame", online.Limit);
        Assert.Equal(ConnectionState.Connected, alice.State);
        Assert.Equal(["room"], alice.JoinedRooms);

        // Still a working connection: the largest payload that fits goes through.
        byte[] fits = new byte[64 * 1024 - 64];
        await alice.PublishAsync("room", fits);
        RoomMessageEventArgs message = await log.WaitForAsync<RoomMessageEventArgs>(m => m.FromUser == "alice");
        Assert.Equal(fits.Length, message.Payload.Length);
        await alice.PingAsync();
    }

    [Fact]
    public async Task MetaMax_0_leaves_the_meta_check_to_the_server()
    {
        await using PresenceClient carol = Client("carol", metaMax: 0);
        await carol.ConnectAsync();
        await carol.JoinAsync("room");

        var refused = await Assert.ThrowsAsync<PresenceRequestException>(() => carol.UpdateAsync("room", new byte[1025]));

        Assert.Equal(ErrorCode.TooLarge, refused.Code);
        Assert.Equal(ConnectionState.Connected, carol.State);
    }
}
