using PresenceD.Operations.Tests.Support;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Hosting;

/// <summary>The real presenced binary as a child process: command line, logs, signals.</summary>
public sealed class DaemonProcessTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Check_config_prints_the_effective_config_with_sources_and_exits_0()
    {
        await using DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(7411, "max_connections 5000") with { Arguments = ["--check-config"] });

        int? exit = await daemon.WaitForExitAsync(Wait);

        Assert.Equal(0, exit);
        Assert.Contains(daemon.Lines, l => l.StartsWith("port 7411 ", StringComparison.Ordinal) && l.EndsWith("# " + daemon.ConfigPath + ":2", StringComparison.Ordinal));
        Assert.Contains(daemon.Lines, l => l.StartsWith("max_connections 5000 ", StringComparison.Ordinal) && l.EndsWith(":4", StringComparison.Ordinal));
        Assert.Contains(daemon.Lines, l => l.StartsWith("drain_timeout 10s ", StringComparison.Ordinal) && l.EndsWith("# default", StringComparison.Ordinal));
        Assert.DoesNotContain(daemon.Lines, l => l.Contains("listening", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bad_config_exits_1_naming_the_line()
    {
        await using DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(7412, "", "max_connections lots") with { Arguments = ["--check-config"] });

        int? exit = await daemon.WaitForExitAsync(Wait);

        Assert.Equal(1, exit);
        Assert.Contains(daemon.Lines, l => l.StartsWith("presenced: " + daemon.ConfigPath + ":5: max_connections", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Logs_one_start_line_and_one_line_per_close_but_none_per_frame()
    {
        int port = Ports.Free();
        await using DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(port, "node_id logs-node"));
        string start = await daemon.WaitUntilListeningAsync();
        await using (TestClient client = await TestClient.HelloAsync(Ports.Loopback(port), "alice"))
        {
            int linesBefore = daemon.Lines.Count;
            for (uint rid = 2; rid < 52; rid++)
            {
                await client.SendAsync(b => ClientFrames.Ping(b, rid));
                await client.ExpectAsync<PongMessage>();
            }
            Assert.Equal(linesBefore, daemon.Lines.Count);
            await client.SendAsync(ClientFrames.Bye);
            await client.ReadUntilClosedAsync();
        }

        string close = await daemon.WaitForLineAsync(Wait, "user alice from 127.0.0.1:", "closed: Bye");

        Assert.Contains($"presenced listening on 127.0.0.1:{port} (node logs-node, backplane Memory, auth None, io_engine io_uring)", start);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: presenced\[0\] ", start);
        Assert.Matches(@"conn logs-node-[0-9a-z]+-[0-9a-f]+ user alice from 127\.0\.0\.1:\d+ closed: Bye$", close);
        Assert.Single(daemon.Lines, l => l.Contains("presenced listening", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SIGTERM_drains_with_GOAWAY_SHUTDOWN_and_exits_0_within_drain_timeout()
    {
        int port = Ports.Free();
        await using DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(port, "drain_timeout 3s"));
        await daemon.WaitUntilListeningAsync();
        await using TestClient first = await TestClient.HelloAsync(Ports.Loopback(port), "u1");
        await using TestClient second = await TestClient.HelloAsync(Ports.Loopback(port), "u2");

        daemon.Signal("TERM");
        GoAwayMessage firstGoAway = await first.ExpectAsync<GoAwayMessage>();
        GoAwayMessage secondGoAway = await second.ExpectAsync<GoAwayMessage>();
        int? exit = await daemon.WaitForExitAsync(TimeSpan.FromSeconds(3 + 2));

        Assert.Equal(ErrorCode.Shutdown, firstGoAway.Code);
        Assert.Equal(ErrorCode.Shutdown, secondGoAway.Code);
        Assert.True(firstGoAway.ReconnectMs > 0 && secondGoAway.ReconnectMs > 0);
        Assert.Null(await first.ReceiveAsync());
        Assert.Equal(0, exit);
        Assert.Contains(daemon.Lines, l => l.Contains("SIGTERM received: draining", StringComparison.Ordinal));
        Assert.Contains(daemon.Lines, l => l.Contains("user u1 from", StringComparison.Ordinal) && l.EndsWith("closed: ServerShutdown", StringComparison.Ordinal));
        Assert.Contains(daemon.Lines, l => l.Contains("presenced stopped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SIGHUP_applies_reloadable_keys_keeps_the_others_and_keeps_clients_connected()
    {
        int port = Ports.Free();
        await using DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(port, "max_connections 10", "name_max 128"));
        await daemon.WaitUntilListeningAsync();
        await using TestClient connected = await TestClient.HelloAsync(Ports.Loopback(port), "stays");

        await File.WriteAllTextAsync(daemon.ConfigPath, DaemonProcess.Config(port, "max_connections 1", "name_max 64", "log_level debug"));
        daemon.Signal("HUP");
        string reloaded = await daemon.WaitForLineAsync(Wait, "reloaded:");
        await connected.SendAsync(b => ClientFrames.Ping(b, 7));
        PongMessage pong = await connected.ExpectAsync<PongMessage>();
        await using TestClient refused = await TestClient.ConnectAsync(Ports.Loopback(port));
        GoAwayMessage goAway = await refused.ExpectAsync<GoAwayMessage>();

        Assert.EndsWith("reloaded: changed [max_connections, log_level]; kept (restart needed) [name_max]", reloaded);
        Assert.Contains("warn:", reloaded);
        Assert.Equal(7u, pong.Rid);
        Assert.Equal(ErrorCode.Limit, goAway.Code);
        await daemon.WaitForLineAsync(Wait, "refused: ServerFull (max_connections 1)");
        Assert.DoesNotContain(daemon.Lines, l => l.Contains("user stays", StringComparison.Ordinal) && l.Contains("closed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reload_with_a_broken_file_keeps_every_setting()
    {
        int port = Ports.Free();
        await using DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(port, "max_connections 1"));
        await daemon.WaitUntilListeningAsync();

        await File.WriteAllTextAsync(daemon.ConfigPath, DaemonProcess.Config(port, "max_connections none"));
        daemon.Signal("HUP");
        string refused = await daemon.WaitForLineAsync(Wait, "reload refused, settings unchanged:");
        await using TestClient first = await TestClient.HelloAsync(Ports.Loopback(port), "one");
        await using TestClient second = await TestClient.ConnectAsync(Ports.Loopback(port));

        Assert.Contains(daemon.ConfigPath + ":4", refused);
        Assert.Equal(ErrorCode.Limit, (await second.ExpectAsync<GoAwayMessage>()).Code);
    }

    [Fact]
    public async Task Under_systemd_it_notifies_ready_watchdog_and_stopping_and_logs_with_journal_priorities()
    {
        int port = Ports.Free();
        using NotifySocket systemd = NotifySocket.Bind();
        var environment = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = systemd.Address,
            ["WATCHDOG_USEC"] = "400000",
            ["JOURNAL_STREAM"] = "8:12345",
        };
        await using DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(port) with { Environment = environment });

        string ready = await systemd.ReceiveAsync(Wait);
        await using TestClient client = await TestClient.HelloAsync(Ports.Loopback(port), "watched");
        (string watchdog, _) = await systemd.ReceiveUntilAsync("serving 1 connections", Wait);
        daemon.Signal("TERM");
        (string stopping, _) = await systemd.ReceiveUntilAsync("STOPPING=1", Wait);
        int? exit = await daemon.WaitForExitAsync(Wait);

        Assert.Equal("READY=1\nSTATUS=serving 0 connections in 0 rooms", ready);
        Assert.Equal("WATCHDOG=1\nSTATUS=serving 1 connections in 0 rooms", watchdog);
        Assert.StartsWith("STOPPING=1\nSTATUS=draining", stopping);
        Assert.Equal(0, exit);
        string start = Assert.Single(daemon.Lines, l => l.Contains("presenced listening on", StringComparison.Ordinal));
        Assert.StartsWith("<6>presenced[0] presenced listening on", start);
    }
}
