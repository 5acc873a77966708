using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

/// <summary>A JoinAsync that throws leaves the room joined nowhere: not on the server, not in the client.</summary>
public sealed class JoinCancellationTests : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private PresenceClient Client(string user) => new(new PresenceClientOptions { Credential = user, AutoReconnect = false }.WithServer(_daemon.Address));

    [Fact]
    public async Task A_join_cancelled_in_flight_is_joined_on_both_sides_or_on_neither()
    {
        await using PresenceClient alice = Client("alice");
        await using PresenceClient observer = Client("observer");
        await alice.ConnectAsync();
        await observer.ConnectAsync();

        int cancelled = 0;
        for (int i = 0; i < 20; i++)
        {
            string room = "cancel-" + i;
            using var cts = new CancellationTokenSource();
            Task join = alice.JoinAsync(room, cancellationToken: cts.Token);
            cts.Cancel();
            bool joined;
            try
            {
                await join;
                joined = true;
            }
            catch (OperationCanceledException)
            {
                joined = false;
                cancelled++;
            }
            // Frames of one connection are handled in order: after this PONG the server has seen all alice sent.
            await alice.PingAsync();
            var state = await observer.PresenceAsync(room);

            Assert.Equal(joined, state.Members.Any(m => m.Conn == alice.Welcome!.Conn));
            Assert.Equal(joined, alice.JoinedRooms.Contains(room));
            Assert.Equal(joined, alice.GetPresence(room) is not null);
        }
        Assert.True(cancelled > 0, "every join beat its cancellation; the cancelled path was not exercised");
        Assert.Equal(ConnectionState.Connected, alice.State);
    }

    [Fact]
    public async Task A_join_with_a_cancelled_token_sends_nothing_and_a_later_join_works()
    {
        await using PresenceClient alice = Client("alice");
        await using PresenceClient observer = Client("observer");
        await alice.ConnectAsync();
        await observer.ConnectAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => alice.JoinAsync("pre-cancelled", cancellationToken: new CancellationToken(true)));
        await alice.PingAsync();

        Assert.Equal(0, (await observer.PresenceAsync("pre-cancelled")).Total);
        Assert.Empty(alice.JoinedRooms);
        var joined = await alice.JoinAsync("pre-cancelled");
        Assert.Contains(joined.Members, m => m.Conn == alice.Welcome!.Conn);
        Assert.Equal(["pre-cancelled"], alice.JoinedRooms);
    }
}
