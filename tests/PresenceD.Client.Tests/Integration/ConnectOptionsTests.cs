using System.Net;
using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

/// <summary>How the client reaches a server: first-connect retries, every resolved address, requests that wait.</summary>
public sealed class ConnectOptionsTests
{
    private static PresenceClientOptions Options(DaemonProcess daemon, string user) => new PresenceClientOptions
    {
        Credential = user,
        RequestTimeout = TimeSpan.FromSeconds(10),
        Backoff = new BackoffPolicy { Initial = TimeSpan.FromMilliseconds(50), Max = TimeSpan.FromMilliseconds(200), Jitter = 0 },
    }.WithServer(daemon.Address);

    [Fact]
    public async Task RetryFirstConnect_keeps_trying_until_the_server_is_up()
    {
        await using DaemonProcess daemon = DaemonProcess.Unstarted();
        PresenceClientOptions options = Options(daemon, "early");
        options.RetryFirstConnect = true;
        await using var client = new PresenceClient(options);
        var log = new ClientEventLog(client);

        Task<WelcomeMessage> connect = client.ConnectAsync();
        await daemon.LaunchAsync();
        WelcomeMessage welcome = await connect.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal("early", welcome.User);
        await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Current == ConnectionState.Connected);
        Assert.Equal([ConnectionState.Connecting, ConnectionState.Connected], log.OfType<ConnectionStateChangedEventArgs>().Select(s => s.Current));
    }

    [Fact]
    public async Task RetryFirstConnect_stops_at_the_cancellation_token_and_without_it_one_attempt_fails_at_once()
    {
        DaemonProcess nobody = DaemonProcess.Unstarted();
        PresenceClientOptions retrying = Options(nobody, "patient");
        retrying.RetryFirstConnect = true;
        await using var patient = new PresenceClient(retrying);
        await using var once = new PresenceClient(Options(nobody, "once"));

        using var give = new CancellationTokenSource(TimeSpan.FromMilliseconds(600));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => patient.ConnectAsync(give.Token));
        await Assert.ThrowsAsync<PresenceConnectionException>(() => once.ConnectAsync());

        Assert.Equal(ConnectionState.Disconnected, patient.State);
        Assert.Equal(ConnectionState.Disconnected, once.State);
        await nobody.DisposeAsync();
    }

    [Fact]
    public async Task Every_resolved_address_is_tried_in_turn()
    {
        await using DaemonProcess daemon = await DaemonProcess.StartAsync();
        PresenceClientOptions options = Options(daemon, "multi");
        options.Host = "presenced.test";
        // Nothing listens on 127.0.0.2 (the daemon binds 127.0.0.1), so the first address is refused.
        options.Resolve = (_, _) => Task.FromResult(new[] { IPAddress.Parse("127.0.0.2"), IPAddress.Loopback });
        await using var client = new PresenceClient(options);

        WelcomeMessage welcome = await client.ConnectAsync();

        Assert.Equal("multi", welcome.User);
    }

    [Fact]
    public async Task WaitForConnection_lets_a_request_made_while_reconnecting_wait_and_succeed()
    {
        await using DaemonProcess daemon = await DaemonProcess.StartAsync();
        PresenceClientOptions options = Options(daemon, "waiter");
        options.WaitForConnection = true;
        options.RequestTimeout = TimeSpan.FromSeconds(30); // the waiting requests' bound covers the daemon's restart
        await using var client = new PresenceClient(options);
        var log = new ClientEventLog(client);
        await client.ConnectAsync();
        await client.JoinAsync("room");

        await daemon.KillAsync();
        await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Current == ConnectionState.Reconnecting);
        Task<CountStateMessage> count = client.CountAsync("room");
        Task<TimeSpan> ping = client.PingAsync();
        Assert.False(count.IsCompleted, $"CountAsync did not wait: {count.Exception?.InnerException?.Message}");
        await daemon.RestartAsync();

        CountStateMessage counted = await count;
        await ping;
        // Waiting requests go out once the rooms are re-joined, so the count sees the client itself.
        Assert.Equal((1L, 1L), (counted.Connections, counted.Users));
    }

    [Fact]
    public async Task WaitForConnection_is_bounded_by_the_request_timeout_and_off_by_default()
    {
        await using DaemonProcess daemon = await DaemonProcess.StartAsync();
        PresenceClientOptions waiting = Options(daemon, "bounded");
        waiting.WaitForConnection = true;
        waiting.RequestTimeout = TimeSpan.FromMilliseconds(500);
        await using var bounded = new PresenceClient(waiting);
        await using var impatient = new PresenceClient(Options(daemon, "impatient"));
        var boundedLog = new ClientEventLog(bounded);
        var impatientLog = new ClientEventLog(impatient);
        await bounded.ConnectAsync();
        await impatient.ConnectAsync();

        await daemon.KillAsync();
        await boundedLog.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Current == ConnectionState.Reconnecting);
        await impatientLog.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Current == ConnectionState.Reconnecting);

        await Assert.ThrowsAsync<TimeoutException>(() => bounded.PingAsync());
        await Assert.ThrowsAsync<PresenceConnectionException>(() => impatient.PingAsync());
    }
}
