using System.Net;
using System.Net.Sockets;
using System.Text;
using PresenceD.Operations.Tests.Support;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Diagnostics;

public sealed class AdminServerTests
{
    [Fact]
    public async Task Metrics_are_served_as_prometheus_text_and_move_with_traffic()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(admin: true);
        using var http = new HttpClient();

        Dictionary<string, double> before = PrometheusText.Parse(await http.GetStringAsync(Url(daemon, "/metrics")));
        await using TestClient client = await TestClient.HelloAsync(daemon.EndPoint, "alice");
        for (uint rid = 2; rid < 12; rid++)
        {
            await client.SendAsync(b => ClientFrames.Ping(b, rid));
            await client.ExpectAsync<PongMessage>();
        }
        await client.SendAsync(b => ClientFrames.Publish(b, 20, "nowhere", "x"u8));
        await client.ExpectAsync<ErrorMessage>();
        HttpResponseMessage response = await http.GetAsync(Url(daemon, "/metrics"));
        Dictionary<string, double> after = PrometheusText.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(0, PrometheusText.Value(before, "presenced_connections"));
        Assert.Equal(1, PrometheusText.Value(after, "presenced_connections"));
        Assert.Equal(1, PrometheusText.Value(after, "presenced_connections_accepted_total"));
        Assert.Equal(12, PrometheusText.Value(after, "presenced_frames_received_total"));
        Assert.Equal(12, PrometheusText.Value(after, "presenced_frames_sent_total"));
        Assert.True(PrometheusText.Value(after, "presenced_received_bytes_total") > PrometheusText.Value(before, "presenced_received_bytes_total"));
        Assert.True(PrometheusText.Value(after, "presenced_sent_bytes_total") > 0);
        Assert.Equal(1, PrometheusText.Value(after, "presenced_errors_total{code=\"not_joined\",kind=\"client\"}"));
        Assert.True(PrometheusText.Value(after, "process_resident_memory_bytes") > 0);
        Assert.Contains("presenced_send_queue_bytes", after.Keys);
    }

    [Fact]
    public async Task Close_reasons_are_counted_by_name()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(admin: true);
        using var http = new HttpClient();
        await using (TestClient client = await TestClient.HelloAsync(daemon.EndPoint, "bob"))
        {
            await client.SendAsync(ClientFrames.Bye);
            await client.ReadUntilClosedAsync();
        }
        await daemon.Log.WaitForAsync(TimeSpan.FromSeconds(5), "closed: Bye");

        Dictionary<string, double> samples = PrometheusText.Parse(await http.GetStringAsync(Url(daemon, "/metrics")));

        Assert.Equal(1, PrometheusText.Value(samples, "presenced_connection_closes_total{reason=\"bye\"}"));
        Assert.Equal(0, PrometheusText.Value(samples, "presenced_connection_closes_total{reason=\"slow_consumer\"}"));
        Assert.Equal(0, PrometheusText.Value(samples, "presenced_connections"));
    }

    [Fact]
    public async Task Healthz_is_200_and_readyz_turns_503_when_the_daemon_drains()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(admin: true);
        using var http = new HttpClient();

        HttpResponseMessage health = await http.GetAsync(Url(daemon, "/healthz"));
        HttpResponseMessage ready = await http.GetAsync(Url(daemon, "/readyz"));
        await daemon.Server.DrainAsync(TimeSpan.FromSeconds(1));
        HttpResponseMessage drained = await http.GetAsync(Url(daemon, "/readyz"));
        HttpResponseMessage stillAlive = await http.GetAsync(Url(daemon, "/healthz"));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready (backplane standalone)\n", await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, drained.StatusCode);
        Assert.Equal("not ready: accepting (backplane standalone)\n", await drained.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, stillAlive.StatusCode);
    }

    [Fact]
    public async Task Unknown_paths_are_404_other_methods_405_and_garbage_400()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(admin: true);
        using var http = new HttpClient();

        HttpResponseMessage missing = await http.GetAsync(Url(daemon, "/nope"));
        HttpResponseMessage post = await http.PostAsync(Url(daemon, "/metrics"), new StringContent("x"));
        HttpResponseMessage head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, Url(daemon, "/healthz")));
        string garbage = await RawExchangeAsync(daemon.Admin!.EndPoint, "HELLO\r\n\r\n");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Contains("GET", post.Content.Headers.Allow);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", garbage);
    }

    [Fact]
    public void Readiness_names_every_failing_condition()
    {
        var check = new PresenceD.Server.Diagnostics.ReadinessCheck()
            .Require("accepting", () => true)
            .Require("backplane", () => false)
            .Require("disk", () => false);

        Assert.False(check.IsReady(out IReadOnlyList<string> failing));
        Assert.Equal(["backplane", "disk"], failing);
    }

    private static Uri Url(TestServer daemon, string path) => new($"http://127.0.0.1:{daemon.Admin!.EndPoint.Port}{path}");

    private static async Task<string> RawExchangeAsync(IPEndPoint endpoint, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None);
        var received = new MemoryStream();
        byte[] buffer = new byte[4096];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0) received.Write(buffer, 0, n);
        return Encoding.ASCII.GetString(received.ToArray());
    }
}
