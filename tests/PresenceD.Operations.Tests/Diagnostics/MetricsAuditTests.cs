using PresenceD.Operations.Tests.Support;
using PresenceD.Tests.Shared;
using PresenceD.Protocol.Messages;

namespace PresenceD.Operations.Tests.Diagnostics;

/// <summary>
/// Every metric the daemon documents moves when the thing it counts happens: a workload touches each one, then
/// /metrics is scraped. (The backplane and sweep families are audited by the cluster tests, against Redis.)
/// </summary>
public sealed class MetricsAuditTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_workload_moves_every_standalone_metric()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(o => o.SendQueueLimit = 64 * 1024);
        await using TestClient alice = await TestClient.HelloAsync(daemon.EndPoint, "alice");
        await using TestClient bob = await TestClient.HelloAsync(daemon.EndPoint, "bob");
        await alice.SendAsync(b => ClientFrames.Join(b, 2, "audit"));
        await alice.ExpectAsync<JoinedMessage>();
        await bob.SendAsync(b => ClientFrames.Join(b, 2, "audit"));
        await bob.ExpectAsync<JoinedMessage>();
        await alice.ExpectAsync<PresenceDiffMessage>();
        await alice.SendAsync(b => ClientFrames.Publish(b, 3, "audit", "hello"u8));
        await alice.ExpectAsync<OkMessage>();
        await bob.ExpectAsync<RoomMessage>();
        await alice.SendAsync(b => ClientFrames.Publish(b, 0, "nowhere", "dropped"u8));
        await alice.SendAsync(b => ClientFrames.Publish(b, 4, "nowhere", "refused"u8));
        Assert.Equal(Protocol.ErrorCode.NotJoined, (await alice.ExpectAsync<ErrorMessage>()).Code);

        Dictionary<string, double> live = PrometheusText.Parse(daemon.Exporter.Scrape());
        Assert.True(PrometheusText.Value(live, "presenced_connections") >= 2);
        Assert.Equal(1, PrometheusText.Value(live, "presenced_rooms"));
        Assert.Equal(2, PrometheusText.Value(live, "presenced_members"));

        // A client that stops reading under a flood is a slow consumer.
        await using TestClient slow = await TestClient.HelloAsync(daemon.EndPoint, "slow");
        await slow.SendAsync(b => ClientFrames.Join(b, 2, "flood"));
        await slow.ExpectAsync<JoinedMessage>();
        await using TestClient flooder = await TestClient.HelloAsync(daemon.EndPoint, "flooder");
        await flooder.SendAsync(b => ClientFrames.Join(b, 2, "flood"));
        await flooder.ExpectAsync<JoinedMessage>();
        byte[] payload = new byte[30_000];
        for (int i = 0; i < 400 && daemon.Server.Connections.Counters.Closes(Server.Connections.CloseReason.SlowConsumer) == 0; i++)
        {
            await flooder.SendAsync(b => ClientFrames.Publish(b, 0, "flood", payload));
        }
        await Eventually.TrueAsync(() => daemon.Server.Connections.Counters.Closes(Server.Connections.CloseReason.SlowConsumer) >= 1, "the slow consumer closed", Wait);
        await alice.SendAsync(ClientFrames.Bye);
        await alice.ReadUntilClosedAsync(Wait);
        await Eventually.TrueAsync(() => daemon.Server.Connections.Counters.Closes(Server.Connections.CloseReason.Bye) >= 1, "alice's BYE counted", Wait);

        Dictionary<string, double> samples = PrometheusText.Parse(daemon.Exporter.Scrape());
        foreach (string family in new[]
        {
            "presenced_connections_accepted_total", "presenced_frames_received_total", "presenced_received_bytes_total",
            "presenced_sent_bytes_total", "presenced_publishes_total", "presenced_deliveries_total", "presenced_dropped_total",
            "presenced_frames_sent_total", "presenced_slow_consumers_total",
            "process_resident_memory_bytes", "dotnet_gc_heap_bytes", "process_open_fds",
        })
        {
            Assert.True(PrometheusText.Value(samples, family) > 0, family + " did not move");
        }
        Assert.True(PrometheusText.Value(samples, "presenced_connection_closes_total{reason=\"bye\"}") >= 1);
        Assert.True(PrometheusText.Value(samples, "presenced_connection_closes_total{reason=\"slow_consumer\"}") >= 1);
        Assert.True(PrometheusText.Value(samples, "presenced_errors_total{code=\"not_joined\",kind=\"client\"}") >= 1);
        Assert.Equal(0, PrometheusText.Value(samples, "presenced_timer_callback_failures_total"));
        Assert.Equal(0, PrometheusText.Value(samples, "presenced_session_end_failures_total"));
        Assert.Contains("presenced_send_queue_bytes", samples.Keys);
    }

    [Fact]
    public async Task A_silent_client_moves_the_heartbeat_timeout_metrics()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
            o.HeartbeatTimeout = TimeSpan.FromMilliseconds(300);
        });
        await using TestClient silent = await TestClient.HelloAsync(daemon.EndPoint, "silent");
        Assert.Contains(await silent.ReadUntilClosedAsync(Wait), f => f is GoAwayMessage { Code: Protocol.ErrorCode.Timeout });
        await Eventually.TrueAsync(() => daemon.Server.Connections.Counters.Closes(Server.Connections.CloseReason.HeartbeatTimeout) >= 1, "the timeout counted", Wait);

        Dictionary<string, double> samples = PrometheusText.Parse(daemon.Exporter.Scrape());
        Assert.Equal(1, PrometheusText.Value(samples, "presenced_heartbeat_timeouts_total"));
        Assert.Equal(1, PrometheusText.Value(samples, "presenced_connection_closes_total{reason=\"heartbeat_timeout\"}"));
    }

    [Fact]
    public async Task A_malformed_frame_counts_its_protocol_error()
    {
        await using TestServer daemon = TestServer.StartWithDiagnostics();
        await using TestClient client = await TestClient.HelloAsync(daemon.EndPoint, "mallory");
        await client.SendBodyAsync([0x93, 0xc1, 0x00, 0x00]); // 0xc1 is never used in MessagePack
        List<ServerMessage> frames = await client.ReadUntilClosedAsync(Wait);
        Assert.Contains(frames, f => f is ErrorMessage { Code: Protocol.ErrorCode.Protocol });

        // The ERROR the client got is an ERROR reply like any other: errors_total counts it under its code.
        await Eventually.TrueAsync(() => PrometheusText.Value(PrometheusText.Parse(daemon.Exporter.Scrape()),
            "presenced_errors_total{code=\"protocol\",kind=\"client\"}") == 1, "errors_total{code=protocol} at 1", Wait);
    }
}
