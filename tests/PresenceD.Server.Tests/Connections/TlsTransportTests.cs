using System.Net.Sockets;
using System.Security.Authentication;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Tls;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Connections;

/// <summary>
/// TLS on the client port, with real sockets and a real handshake (OpenSSL through SslStream): every op round-trips
/// through it, a plain client is told the port needs TLS, <c>tls optional</c> serves both on one port, a handshake
/// that does not finish or that the client refuses is closed and counted as tls_handshake_failed, tls_min_version is
/// enforced, and a new certificate serves new handshakes while open connections stay.
/// </summary>
public sealed class TlsTransportTests : IDisposable
{
    private readonly TestCertificates _certificates = TestCertificates.Create();

    public void Dispose() => _certificates.Dispose();

    private TestServer Start(TlsMode mode, Action<ServerOptions>? more = null) => TestServer.StartWithDiagnostics(o =>
    {
        o.Tls = mode;
        o.TlsCertFile = _certificates.ServerCertFile;
        o.TlsKeyFile = _certificates.ServerKeyFile;
        more?.Invoke(o);
    });

    private TestTls Trusting => new(_certificates.CaFile);

    [Fact]
    public async Task Every_op_round_trips_over_tls_and_a_frame_larger_than_a_tls_record_arrives_whole()
    {
        await using TestServer server = Start(TlsMode.On, o => o.MaxFrame = 256 * 1024);
        await using TestClient alice = await TestClient.HelloAsync(server.EndPoint, "alice", tls: Trusting);
        await using TestClient bob = await TestClient.HelloAsync(server.EndPoint, "bob", tls: Trusting);
        Assert.NotNull(alice.TlsProtocol);

        await alice.SendAsync(f => ClientFrames.Join(f, 2, "lobby", [1], hasMeta: true, will: [9, 9], hasWill: true));
        Assert.Equal(1, (await alice.ExpectAsync<JoinedMessage>()).Total);
        await bob.SendAsync(f => ClientFrames.Join(f, 2, "lobby"));
        JoinedMessage bobJoined = await bob.ExpectAsync<JoinedMessage>();
        Assert.Equal(new[] { alice.Conn, bob.Conn }.Order(StringComparer.Ordinal), bobJoined.Members.Select(m => m.Conn).Order(StringComparer.Ordinal));
        Assert.Equal(bob.Conn, Assert.Single((await alice.ExpectAsync<PresenceDiffMessage>()).Joins).Conn);

        // 200 KB: many TLS records (16 KB each) for one frame, in both directions.
        byte[] big = Enumerable.Range(0, 200 * 1024).Select(i => (byte)(i * 7)).ToArray();
        await bob.SendAsync(f => ClientFrames.Publish(f, 3, "lobby", big));
        Assert.IsType<OkMessage>(await bob.ReceiveAsync());
        RoomMessage received = await alice.ExpectAsync<RoomMessage>();
        Assert.Equal((bob.Conn, big.Length), (received.FromConn, received.Payload.Length));
        Assert.True(big.AsSpan().SequenceEqual(received.Payload));

        await alice.SendAsync(f => ClientFrames.Update(f, 4, "lobby", [2], hasMeta: true));
        Assert.IsType<OkMessage>(await alice.ReceiveAsync());
        Assert.Equal([2], Assert.Single((await bob.ExpectAsync<PresenceDiffMessage>()).Joins).Meta);

        await bob.SendAsync(f => ClientFrames.Presence(f, 5, "lobby"));
        Assert.Equal(2, (await bob.ExpectAsync<PresenceStateMessage>()).Total);
        await bob.SendAsync(f => ClientFrames.Count(f, 6, "lobby"));
        CountStateMessage count = await bob.ExpectAsync<CountStateMessage>();
        Assert.Equal((2L, 2L), (count.Connections, count.Users));
        await bob.SendAsync(f => ClientFrames.Online(f, 7, ["alice", "nobody"]));
        Assert.Equal(["alice"], (await bob.ExpectAsync<OnlineStateMessage>()).Online);
        await bob.SendAsync(f => ClientFrames.Ping(f, 8));
        Assert.Equal(8u, (await bob.ExpectAsync<PongMessage>()).Rid);

        await bob.SendAsync(f => ClientFrames.Leave(f, 9, "lobby"));
        Assert.IsType<OkMessage>(await bob.ReceiveAsync());
        Assert.Equal(bob.Conn, Assert.Single((await alice.ExpectAsync<PresenceDiffMessage>()).Leaves).Conn);

        await bob.SendAsync(ClientFrames.Bye);
        Assert.Empty(await bob.ReadUntilClosedAsync());
        await Eventually.TrueAsync(() => server.Server.Connections.Counters.Closes(CloseReason.Bye) == 1, "bob's close counted as bye");
    }

    [Fact]
    public async Task Refresh_round_trips_over_tls_and_narrows_the_rooms()
    {
        const string secret = "tls-refresh-secret-of-some-length";
        string secretFile = Path.GetTempFileName();
        File.WriteAllText(secretFile, secret);
        try
        {
            await using TestServer server = Start(TlsMode.On, o =>
            {
                o.Auth = AuthMode.Jwt;
                o.JwtSecretFile = secretFile;
            });
            long exp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60;
            string first = Dispatch.JwtAuthTests.Token(new { sub = "alice", exp, rooms = new[] { "a", "b" } }, secret: secret);
            await using TestClient alice = await TestClient.HelloAsync(server.EndPoint, first, features: ProtocolFeatures.Refresh, tls: Trusting);
            Assert.Equal(ProtocolFeatures.Refresh, alice.Welcome!.Features);
            await alice.SendAsync(f => ClientFrames.Join(f, 2, "a"));
            await alice.ExpectAsync<JoinedMessage>();
            await alice.SendAsync(f => ClientFrames.Join(f, 3, "b"));
            await alice.ExpectAsync<JoinedMessage>();

            string narrower = Dispatch.JwtAuthTests.Token(new { sub = "alice", exp = exp + 60, rooms = new[] { "a" } }, secret: secret);
            await alice.SendAsync(f => ClientFrames.Refresh(f, 4, narrower));
            RefreshedMessage refreshed = await alice.ExpectAsync<RefreshedMessage>();
            Assert.Equal((4u, exp + 60), (refreshed.Rid, refreshed.Exp));
            Assert.Equal(["b"], refreshed.Left);
            await alice.SendAsync(f => ClientFrames.Ping(f, 5));
            Assert.Equal(5u, (await alice.ExpectAsync<PongMessage>()).Rid);
        }
        finally
        {
            File.Delete(secretFile);
        }
    }

    [Fact]
    public async Task A_reader_that_falls_behind_gets_every_message_in_order_once_it_reads()
    {
        // The socket buffer fills while bob does not read: the TLS writes finish asynchronously, in order.
        await using TestServer server = Start(TlsMode.On, o => o.SendQueueLimit = 64L * 1024 * 1024);
        await using TestClient alice = await TestClient.HelloAsync(server.EndPoint, "alice", tls: Trusting);
        await using TestClient bob = await TestClient.HelloAsync(server.EndPoint, "bob", tls: Trusting);
        await bob.SendAsync(f => ClientFrames.Join(f, 2, "r"));
        await bob.ExpectAsync<JoinedMessage>();
        await alice.SendAsync(f => ClientFrames.Join(f, 2, "r"));
        await alice.ExpectAsync<JoinedMessage>();
        await bob.ExpectAsync<PresenceDiffMessage>();
        const int count = 2000;
        byte[] payload = new byte[1000];
        for (int i = 0; i < count; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(payload, i);
            byte[] copy = payload.ToArray();
            await alice.SendAsync(f => ClientFrames.Publish(f, 0, "r", copy));
        }
        for (int i = 0; i < count; i++)
        {
            RoomMessage message = await bob.ExpectAsync<RoomMessage>();
            Assert.Equal(i, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(message.Payload));
        }
    }

    [Fact]
    public async Task A_plain_client_on_a_tls_port_is_told_the_port_requires_tls()
    {
        await using TestServer server = Start(TlsMode.On);
        await using TestClient plain = await TestClient.ConnectAsync(server.EndPoint);
        await plain.SendAsync(f => ClientFrames.Hello(f, 1, "alice", "tests"));
        GoAwayMessage goAway = Assert.IsType<GoAwayMessage>(Assert.Single(await plain.ReadUntilClosedAsync()));
        Assert.Equal((ErrorCode.Protocol, "this port requires TLS"), (goAway.Code, goAway.Text));
        await Eventually.TrueAsync(() => server.Server.Connections.Counters.Closes(CloseReason.TlsRequired) == 1, "the close counted as tls_required");
        await server.Log.WaitForAsync(TimeSpan.FromSeconds(10), "closed: TlsRequired (the first byte is not a TLS handshake)");
    }

    [Fact]
    public async Task A_tls_client_on_a_plain_port_fails_at_once_and_the_server_names_the_close()
    {
        await using TestServer server = Start(TlsMode.Off);
        // The server answers the ClientHello with plaintext ERROR and GOAWAY, which the client's TLS library refuses
        // as a malformed record: an error, not a hang until the handshake's timeout (that would be a cancellation).
        Exception failed = await Assert.ThrowsAnyAsync<Exception>(() => TestClient.ConnectAsync(server.EndPoint, Trusting));
        Assert.True(failed is AuthenticationException or IOException, failed.ToString());
        await Eventually.TrueAsync(() => server.Server.Connections.Counters.Closes(CloseReason.TlsOnPlainPort) == 1, "the close counted as tls_on_plain_port");
        Assert.Equal(0, server.Server.Connections.Counters.Closes(CloseReason.FrameTooLarge));
        await server.Log.WaitForAsync(TimeSpan.FromSeconds(10), "closed: TlsOnPlainPort (a TLS handshake on a port without TLS (tls off))");

        // What a plain reader of that port sees after sending a ClientHello's first bytes.
        await using TestClient raw = await TestClient.ConnectAsync(server.EndPoint);
        await raw.SendRawAsync(new byte[] { 0x16, 0x03, 0x01, 0x00, 0xF4, 0x01, 0x00, 0x00, 0xF0, 0x03, 0x03 });
        List<ServerMessage> answer = await raw.ReadUntilClosedAsync();
        Assert.Equal((ErrorCode.Protocol, "a TLS handshake on a port without TLS (tls off)"), (Assert.IsType<ErrorMessage>(answer[0]).Code, ((ErrorMessage)answer[0]).Text));
        GoAwayMessage goAway = Assert.IsType<GoAwayMessage>(answer[1]);
        Assert.Equal((ErrorCode.Protocol, "this port does not speak TLS"), (goAway.Code, goAway.Text));
    }

    [Fact]
    public async Task Tls_optional_serves_tls_and_plain_clients_on_one_port_in_one_room()
    {
        await using TestServer server = Start(TlsMode.Optional);
        await using TestClient secure = await TestClient.HelloAsync(server.EndPoint, "secure", tls: Trusting);
        await using TestClient plain = await TestClient.HelloAsync(server.EndPoint, "plain");
        Assert.NotNull(secure.TlsProtocol);
        Assert.Null(plain.TlsProtocol);
        await secure.SendAsync(f => ClientFrames.Join(f, 2, "mixed"));
        await secure.ExpectAsync<JoinedMessage>();
        await plain.SendAsync(f => ClientFrames.Join(f, 2, "mixed"));
        Assert.Equal(2, (await plain.ExpectAsync<JoinedMessage>()).Total);
        await secure.ExpectAsync<PresenceDiffMessage>();
        await plain.SendAsync(f => ClientFrames.Publish(f, 3, "mixed", [1, 2, 3]));
        Assert.Equal([1, 2, 3], (await secure.ExpectAsync<RoomMessage>()).Payload);
        await secure.SendAsync(f => ClientFrames.Publish(f, 3, "mixed", [4]));
        Assert.IsType<OkMessage>(await plain.ReceiveAsync());
        Assert.Equal([4], (await plain.ExpectAsync<RoomMessage>()).Payload);
    }

    [Fact]
    public async Task A_handshake_unfinished_at_hello_timeout_is_closed_and_counted()
    {
        await using TestServer server = Start(TlsMode.On, o => o.HelloTimeout = TimeSpan.FromMilliseconds(300));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint);
        // The start of a TLS record, then nothing: a slow-handshake client.
        await socket.SendAsync(new byte[] { 0x16, 0x03, 0x01, 0x00, 0x40 }, SocketFlags.None);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        byte[] buffer = new byte[64];
        int read;
        try
        {
            read = await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
        }
        catch (SocketException)
        {
            read = 0; // reset: closed all the same
        }
        Assert.Equal(0, read); // closed, and no plaintext GOAWAY sent into a handshake
        await Eventually.TrueAsync(() => server.Server.Connections.Counters.Closes(CloseReason.TlsHandshakeFailed) == 1, "the close counted as tls_handshake_failed");
        await server.Log.WaitForAsync(TimeSpan.FromSeconds(10), "closed: TlsHandshakeFailed (the handshake did not finish within hello_timeout)");
    }

    [Fact]
    public async Task A_client_that_refuses_the_certificate_fails_its_handshake_and_the_server_counts_it()
    {
        await using TestServer server = Start(TlsMode.On);
        // Trusting another CA's certificate only: the client aborts the handshake.
        using var other = TestCertificates.Create();
        await Assert.ThrowsAsync<AuthenticationException>(() => TestClient.ConnectAsync(server.EndPoint, new TestTls(other.CaFile)));
        await Eventually.TrueAsync(() => server.Server.Connections.Counters.Closes(CloseReason.TlsHandshakeFailed) == 1, "the failed handshake counted", TimeSpan.FromSeconds(3), () => string.Join(",", Enum.GetValues<CloseReason>().Select(r => r + "=" + server.Server.Connections.Counters.Closes(r))) + "\n" + server.Log.Lines.ToString());
        // The name must match too.
        await Assert.ThrowsAsync<AuthenticationException>(() => TestClient.ConnectAsync(server.EndPoint, Trusting with { TargetHost = "wrong.example" }));
        await using TestClient fine = await TestClient.HelloAsync(server.EndPoint, "alice", tls: Trusting);
        Assert.Equal("alice", fine.Welcome!.User);
    }

    [Fact]
    public async Task Tls_min_version_1_3_refuses_a_tls_1_2_client()
    {
        await using TestServer server = Start(TlsMode.On, o => o.TlsProtocols = SslProtocols.Tls13);
        await Assert.ThrowsAnyAsync<Exception>(() => TestClient.ConnectAsync(server.EndPoint, Trusting with { Protocols = SslProtocols.Tls12 }));
        await Eventually.TrueAsync(() => server.Server.Connections.Counters.Closes(CloseReason.TlsHandshakeFailed) == 1, "the refused version counted");
        await using TestClient modern = await TestClient.HelloAsync(server.EndPoint, "alice", tls: Trusting);
        Assert.Equal(SslProtocols.Tls13, modern.TlsProtocol);
    }

    [Fact]
    public async Task A_replaced_certificate_serves_new_handshakes_while_open_connections_stay()
    {
        await using TestServer server = Start(TlsMode.On);
        await using TestClient before = await TestClient.HelloAsync(server.EndPoint, "before", tls: Trusting);
        string first = server.Server.Tls!.Credentials.Certificate.Thumbprint;
        server.Server.Tls.Replace(TlsCredentials.Load(_certificates.RotatedCertFile, _certificates.RotatedKeyFile, DateTime.UtcNow));
        Assert.NotEqual(first, server.Server.Tls.Credentials.Certificate.Thumbprint);

        string? presented = null;
        await using TestClient after = await TestClient.HelloAsync(server.EndPoint, "after", tls: Trusting with { Presented = t => presented = t });
        Assert.Equal(server.Server.Tls.Credentials.Certificate.Thumbprint, presented);
        await before.SendAsync(f => ClientFrames.Ping(f, 5));
        Assert.Equal(5u, (await before.ExpectAsync<PongMessage>()).Rid);
    }

    [Fact]
    public void An_expired_certificate_or_a_key_of_another_certificate_is_refused_with_the_file_named()
    {
        var expired = Assert.Throws<TlsCertificateException>(() => TlsCredentials.Load(_certificates.ExpiredCertFile, _certificates.ExpiredKeyFile, DateTime.UtcNow));
        Assert.Contains("expired", expired.Message, StringComparison.Ordinal);
        Assert.Contains(_certificates.ExpiredCertFile, expired.Message, StringComparison.Ordinal);
        var mismatch = Assert.Throws<TlsCertificateException>(() => TlsCredentials.Load(_certificates.ServerCertFile, _certificates.RotatedKeyFile, DateTime.UtcNow));
        Assert.Contains("tls_key_file", mismatch.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<TlsCertificateException>(() => TlsCredentials.Load(_certificates.ServerCertFile + ".none", _certificates.ServerKeyFile, DateTime.UtcNow));
        Assert.Contains("tls_cert_file", missing.Message, StringComparison.Ordinal);
    }

}
