using System.Net;
using PresenceD.Operations.Tests.Support;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Accept;

public sealed class ProxyProtocolListenerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_v2_header_sent_with_the_first_frame_gives_logs_the_real_client_and_leaves_the_frame_intact()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(o => o.ProxyProtocol = true);
        await using TestClient client = await TestClient.ConnectAsync(daemon.EndPoint);

        await client.SendRawAsync(Concat(ProxyHeaders.V2(IPEndPoint.Parse("203.0.113.7:41000"), daemon.EndPoint, tlvBytes: 20), Hello("carol")));
        WelcomeMessage welcome = await client.ExpectAsync<WelcomeMessage>();
        await client.SendAsync(ClientFrames.Bye);
        await client.ReadUntilClosedAsync();

        Assert.Equal("carol", welcome.User);
        await daemon.Log.WaitForAsync(Wait, "user carol from 203.0.113.7:41000 closed: Bye");
    }

    [Fact]
    public async Task A_v1_line_split_over_several_writes_is_read_up_to_its_CRLF_only()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(o => o.ProxyProtocol = true);
        await using TestClient client = await TestClient.ConnectAsync(daemon.EndPoint);
        byte[] header = ProxyHeaders.V1(IPEndPoint.Parse("[2001:db8::7]:5000"), IPEndPoint.Parse("[2001:db8::1]:7400"));

        // The pauses are the test: they make the server read the line in pieces (no event says a piece was read).
        await client.SendRawAsync(header.AsMemory(0, 10));
        await Task.Delay(50);
        await client.SendRawAsync(header.AsMemory(10, 20));
        await Task.Delay(50);
        await client.SendRawAsync(Concat(header[30..], Hello("dave")));
        await client.ExpectAsync<WelcomeMessage>();
        await client.SendAsync(ClientFrames.Bye);
        await client.ReadUntilClosedAsync();

        await daemon.Log.WaitForAsync(Wait, "user dave from [2001:db8::7]:5000 closed: Bye");
    }

    [Fact]
    public async Task A_v2_local_header_keeps_the_socket_peer()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(o => o.ProxyProtocol = true);
        await using TestClient client = await TestClient.ConnectAsync(daemon.EndPoint);

        await client.SendRawAsync(Concat(ProxyHeaders.V2Local(), Hello("erin")));
        await client.ExpectAsync<WelcomeMessage>();
        await client.SendAsync(ClientFrames.Bye);
        await client.ReadUntilClosedAsync();

        await daemon.Log.WaitForAsync(Wait, "user erin from 127.0.0.1:", "closed: Bye");
    }

    [Fact]
    public async Task A_connection_without_a_header_is_refused_and_counted_as_a_protocol_error()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(o => o.ProxyProtocol = true);
        await using TestClient client = await TestClient.ConnectAsync(daemon.EndPoint);

        await client.SendRawAsync(Hello("mallory"));
        List<ServerMessage> messages = await client.ReadUntilClosedAsync();

        Assert.Empty(messages);
        await daemon.Log.WaitForAsync(Wait, "refused: ProtocolError", "no PROXY protocol header");
        Assert.Contains("presenced_connection_closes_total{reason=\"protocol_error\"} 1\n", daemon.Exporter.Scrape());
    }

    [Fact]
    public async Task A_header_that_never_comes_is_cut_after_hello_timeout()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(o =>
        {
            o.ProxyProtocol = true;
            o.HelloTimeout = TimeSpan.FromMilliseconds(300);
        });
        await using TestClient client = await TestClient.ConnectAsync(daemon.EndPoint);

        await client.SendRawAsync("PROXY TCP4 1.2.3.4"u8.ToArray());
        List<ServerMessage> messages = await client.ReadUntilClosedAsync();

        Assert.Empty(messages);
        await daemon.Log.WaitForAsync(Wait, "refused: ProtocolError", "no PROXY header within hello_timeout");
    }

    [Fact]
    public async Task Max_connections_refusals_name_the_real_client()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(o =>
        {
            o.ProxyProtocol = true;
            o.MaxConnections = 1;
        });
        await using TestClient first = await TestClient.ConnectAsync(daemon.EndPoint);
        await first.SendRawAsync(Concat(ProxyHeaders.V2(IPEndPoint.Parse("192.0.2.1:1000"), daemon.EndPoint), Hello("first")));
        await first.ExpectAsync<WelcomeMessage>();
        await using TestClient second = await TestClient.ConnectAsync(daemon.EndPoint);

        await second.SendRawAsync(ProxyHeaders.V2(IPEndPoint.Parse("192.0.2.9:7777"), daemon.EndPoint));
        GoAwayMessage goAway = await second.ExpectAsync<GoAwayMessage>();

        Assert.Equal(ErrorCode.Limit, goAway.Code);
        await daemon.Log.WaitForAsync(Wait, "conn from 192.0.2.9:7777 refused: ServerFull");
    }

    private static byte[] Hello(string user)
    {
        using var frame = new FrameBuffer();
        ClientFrames.Hello(frame, 1, user, "ops-tests");
        return frame.WrittenSpan.ToArray();
    }

    private static byte[] Concat(byte[] first, byte[] second) => [.. first, .. second];
}
