using System.Net.Sockets;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Connections;

/// <summary>Only a complete frame is a heartbeat, and a frame that has started must finish within frame_timeout.</summary>
public sealed class FrameTimeoutTests
{
    [Fact]
    public async Task A_frame_trickled_a_byte_at_a_time_does_not_keep_the_connection_alive()
    {
        await using TestServer server = TestServer.Start(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
            o.HeartbeatTimeout = TimeSpan.FromMilliseconds(600);
        });
        await using TestClient client = await server.HelloAsync("loris");
        using var stop = new CancellationTokenSource();
        Task trickle = TrickleAsync(client, [0, 0, 0x03, 0xe8], TimeSpan.FromMilliseconds(50), stop.Token); // declares 1000 bytes
        long started = Environment.TickCount64;
        List<ServerMessage> frames = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(5));
        long closedAfter = Environment.TickCount64 - started;
        await stop.CancelAsync();
        await trickle;
        GoAwayMessage goAway = Assert.IsType<GoAwayMessage>(Assert.Single(frames));
        Assert.Equal(ErrorCode.Timeout, goAway.Code);
        Assert.Equal("frame timeout", goAway.Text);
        Assert.InRange(closedAfter, 500, 3000);
        await Eventually.TrueAsync(() => server.Server.Connections.Counters.Closes(CloseReason.FrameTimeout) == 1, "one frame_timeout close", TimeSpan.FromSeconds(5));
        Assert.Equal(0, server.Server.Connections.Counters.Closes(CloseReason.HeartbeatTimeout));
    }

    [Fact]
    public async Task A_frame_timeout_below_the_heartbeat_timeout_bounds_a_started_frame()
    {
        await using TestServer server = TestServer.Start(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromSeconds(4);
            o.HeartbeatTimeout = TimeSpan.FromSeconds(10);
            o.FrameTimeout = TimeSpan.FromMilliseconds(300);
        });
        await using TestClient client = await server.HelloAsync("half");
        long started = Environment.TickCount64;
        await client.SendRawAsync(new byte[] { 0, 0, 0, 3, 0x92 }); // the first byte of a PING
        List<ServerMessage> frames = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(5));
        long closedAfter = Environment.TickCount64 - started;
        Assert.Equal(ErrorCode.Timeout, Assert.IsType<GoAwayMessage>(Assert.Single(frames)).Code);
        Assert.InRange(closedAfter, 250, 3000);
        await Eventually.TrueAsync(() => server.Server.Connections.Counters.Closes(CloseReason.FrameTimeout) == 1, "one frame_timeout close", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Frames_that_span_reads_within_the_frame_timeout_are_served()
    {
        await using TestServer server = TestServer.Start(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
            o.HeartbeatTimeout = TimeSpan.FromMilliseconds(1000);
        });
        await using TestClient client = await server.HelloAsync("split");
        for (int i = 1; i <= 8; i++)
        {
            await client.SendRawAsync(new byte[] { 0, 0, 0, 3, 0x92 });
            await Task.Delay(60); // the gap is the test: the frame spans two reads
            await client.SendRawAsync(new byte[] { 0x08, (byte)i }); // the rest of PING [8, i]
            Assert.Equal((uint)i, (await client.ExpectAsync<PongMessage>()).Rid);
        }
    }

    [Fact]
    public async Task A_partial_frame_does_not_count_as_a_heartbeat()
    {
        await using TestServer server = TestServer.Start(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(300);
            o.HeartbeatTimeout = TimeSpan.FromMilliseconds(1000);
        });
        await using TestClient client = await server.HelloAsync("quiet");
        // A complete PING, then nothing but the first byte of the next one: the deadline counts from the PING.
        await client.SendAsync(f => ClientFrames.Ping(f, 1));
        Assert.Equal(1u, (await client.ExpectAsync<PongMessage>()).Rid);
        long pinged = Environment.TickCount64;
        await Task.Delay(700); // the silence is the test: the byte comes 700 ms after the PING
        await client.SendRawAsync(new byte[] { 0 });
        List<ServerMessage> frames = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(ErrorCode.Timeout, Assert.IsType<GoAwayMessage>(Assert.Single(frames)).Code);
        Assert.InRange(Environment.TickCount64 - pinged, 950, 1550); // from the byte on, it would be 1700
    }

    private static async Task TrickleAsync(TestClient client, byte[] header, TimeSpan every, CancellationToken stop)
    {
        try
        {
            await client.SendRawAsync(header);
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(every, stop);
                await client.SendRawAsync(new byte[] { 0x90 });
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }
}
