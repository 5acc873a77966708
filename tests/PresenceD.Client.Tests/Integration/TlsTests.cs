using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

/// <summary>
/// The client over TLS against a real presenced with <c>tls on</c> (certificates made by <see cref="TestCertificates"/>):
/// every op round-trips; a certificate that is untrusted or for another name, and a server without TLS, fail the connect
/// with <see cref="PresenceTlsException"/> at once and are not retried; a plain client on the TLS port is told why.
/// </summary>
public sealed class TlsTests : IDisposable
{
    private readonly TestCertificates _certificates = TestCertificates.Create();

    public void Dispose() => _certificates.Dispose();

    private Task<DaemonProcess> StartTlsAsync(string cert, string key) =>
        DaemonProcess.StartAsync("--tls", "on", "--tls_cert_file", cert, "--tls_key_file", key);

    private PresenceClientOptions TlsOptions(DaemonProcess daemon, string user) => new PresenceClientOptions
    {
        Credential = user,
        Tls = true,
        TlsTargetHost = "localhost", // the test certificate's name; the client connects to 127.0.0.1
        TlsCaFile = _certificates.CaFile,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        RequestTimeout = TimeSpan.FromSeconds(10),
        Backoff = new BackoffPolicy { Initial = TimeSpan.FromMilliseconds(50), Max = TimeSpan.FromMilliseconds(200), Jitter = 0 },
    }.WithServer(daemon.Address);

    [Fact]
    public async Task Every_op_round_trips_over_tls()
    {
        await using DaemonProcess daemon = await StartTlsAsync(_certificates.ServerCertFile, _certificates.ServerKeyFile);
        await using var alice = new PresenceClient(TlsOptions(daemon, "alice"));
        await using var bob = new PresenceClient(TlsOptions(daemon, "bob"));
        var aliceLog = new ClientEventLog(alice);
        Assert.Equal("alice", (await alice.ConnectAsync()).User);
        await bob.ConnectAsync();

        await alice.JoinAsync("tls-room", meta: [1]);
        JoinedMessage joined = await bob.JoinAsync("tls-room", meta: [2], will: [9]);
        Assert.Equal(["alice", "bob"], joined.Members.Select(m => m.User).Order());
        await aliceLog.WaitForAsync<PresenceChangedEventArgs>(p => p.Joined.Any(m => m.User == "bob"));

        await bob.UpdateAsync("tls-room", [3]);
        await aliceLog.WaitForAsync<PresenceChangedEventArgs>(p => p.Updated.Any(m => m.User == "bob" && m.Meta is [3]));
        byte[] payload = Enumerable.Range(0, 40_000).Select(i => (byte)i).ToArray(); // several TLS records
        await bob.PublishAsync("tls-room", payload);
        RoomMessageEventArgs message = await aliceLog.WaitForAsync<RoomMessageEventArgs>(m => m.FromUser == "bob");
        Assert.Equal(payload, message.Payload);

        Assert.Equal(2, (await alice.CountAsync("tls-room")).Connections);
        Assert.Equal(2, (await alice.PresenceAsync("tls-room")).Members.Count);
        Assert.Equal(["bob"], await alice.OnlineAsync(["bob", "nobody"]));
        Assert.True(await alice.PingAsync() >= TimeSpan.Zero);

        await bob.LeaveAsync("tls-room");
        await aliceLog.WaitForAsync<PresenceChangedEventArgs>(p => p.Left.Any(m => m.User == "bob"));
        await bob.CloseAsync(); // BYE, close_notify, FIN: a clean end the server logs as bye
        await daemon.WaitForLineAsync(TimeSpan.FromSeconds(10), "user bob from", "closed: Bye");
    }

    [Fact]
    public async Task A_certificate_for_another_name_fails_the_connect_with_the_reason_and_is_not_retried()
    {
        await using DaemonProcess daemon = await StartTlsAsync(_certificates.WrongNameCertFile, _certificates.WrongNameKeyFile);
        PresenceClientOptions options = TlsOptions(daemon, "carol");
        options.RetryFirstConnect = true; // still one attempt: the same certificate would be refused again
        await using var client = new PresenceClient(options);

        PresenceTlsException refused = await Assert.ThrowsAsync<PresenceTlsException>(() => client.ConnectAsync()).WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Contains("is not for localhost", refused.Message);
        Assert.Contains($"127.0.0.1:{daemon.Port}", refused.Message);
        Assert.Equal(ConnectionState.Disconnected, client.State);
        await daemon.WaitForLineAsync(TimeSpan.FromSeconds(10), "closed: TlsHandshakeFailed");
    }

    [Fact]
    public async Task A_certificate_the_ca_file_did_not_sign_is_refused_and_the_insecure_option_accepts_it()
    {
        await using DaemonProcess daemon = await StartTlsAsync(_certificates.UntrustedCertFile, _certificates.UntrustedKeyFile);
        await using var strict = new PresenceClient(TlsOptions(daemon, "dave"));
        PresenceTlsException refused = await Assert.ThrowsAsync<PresenceTlsException>(() => strict.ConnectAsync());
        Assert.Contains("is not trusted by the CA file", refused.Message);

        // Without a CA file the system's roots decide, and they do not know the test certificates either.
        PresenceClientOptions system = TlsOptions(daemon, "erin");
        system.TlsCaFile = null;
        await using var systemRoots = new PresenceClient(system);
        Assert.Contains("is not trusted", (await Assert.ThrowsAsync<PresenceTlsException>(() => systemRoots.ConnectAsync())).Message);

        PresenceClientOptions insecure = TlsOptions(daemon, "frank");
        insecure.TlsInsecureSkipVerify = true;
        await using var anyCertificate = new PresenceClient(insecure);
        Assert.Equal("frank", (await anyCertificate.ConnectAsync()).User);
    }

    [Fact]
    public async Task A_tls_client_on_a_plain_port_fails_at_once_and_a_plain_client_on_a_tls_port_is_told_why()
    {
        await using DaemonProcess plain = await DaemonProcess.StartAsync();
        await using var tlsClient = new PresenceClient(TlsOptions(plain, "gina"));
        PresenceTlsException noTls = await Assert.ThrowsAsync<PresenceTlsException>(() => tlsClient.ConnectAsync()).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Contains("does the server have tls on", noTls.Message);

        await using DaemonProcess secured = await StartTlsAsync(_certificates.ServerCertFile, _certificates.ServerKeyFile);
        PresenceClientOptions plainOptions = TlsOptions(secured, "hank");
        plainOptions.Tls = false;
        await using var plainClient = new PresenceClient(plainOptions);
        PresenceConnectionException told = await Assert.ThrowsAsync<PresenceConnectionException>(() => plainClient.ConnectAsync()).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(ErrorCode.Protocol, told.GoAwayCode);
        Assert.Contains("requires TLS", told.GoAwayText);
    }

    [Fact]
    public async Task A_dropped_tls_connection_resumes_over_tls_with_the_messages_sent_meanwhile()
    {
        await using DaemonProcess daemon = await DaemonProcess.StartAsync("--tls", "on", "--tls_cert_file", _certificates.ServerCertFile,
            "--tls_key_file", _certificates.ServerKeyFile, "--resume-window", "30s");
        PresenceClientOptions aliceOptions = TlsOptions(daemon, "ivy");
        aliceOptions.Backoff = new BackoffPolicy { Initial = TimeSpan.FromMilliseconds(1000), Max = TimeSpan.FromMilliseconds(1000), Jitter = 0 };
        await using var alice = new PresenceClient(aliceOptions);
        await using var bob = new PresenceClient(TlsOptions(daemon, "jack"));
        var log = new ClientEventLog(alice);
        WelcomeMessage first = await alice.ConnectAsync();
        await bob.ConnectAsync();
        await alice.JoinAsync("tls-resume");
        await bob.JoinAsync("tls-resume");

        alice.AbortConnection();
        await daemon.WaitForLineAsync(TimeSpan.FromSeconds(10), first.Conn, "closed:");
        await bob.PublishAsync("tls-resume", new byte[] { 42 });

        ConnectionStateChangedEventArgs back = await log.WaitForAsync<ConnectionStateChangedEventArgs>(s => s.Previous == ConnectionState.Reconnecting && s.Current == ConnectionState.Connected);
        Assert.True(back.Resumed);
        Assert.Equal(first.Conn, alice.Welcome!.Conn);
        Assert.Equal([42], (await log.WaitForAsync<RoomMessageEventArgs>(m => m.FromUser == "jack")).Payload);
    }
}
