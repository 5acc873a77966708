using System.Text.Json;
using PresenceD.Load;
using PresenceD.Tests.Shared;

namespace PresenceD.Tools.Tests.Load;

/// <summary>A short run of every scenario against the real daemon, checked through the --json result.</summary>
public sealed class LoadRunTests : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private async Task<(int Code, JsonElement Result, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] common = ["--server", _daemon.Address, "--json", "--no-progress", "--warmup", "0s", "--server-pid", _daemon.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        int code = await LoadApp.RunAsync([.. args, .. common], output, error, interactive: false);
        string text = output.ToString();
        JsonElement result = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (code, result, error.ToString());
    }

    [Fact]
    public async Task Fanout_delivers_every_message_to_every_member()
    {
        var (code, r, error) = await RunAsync("fanout", "--subscribers", "20", "--publishers", "2", "--window", "10", "--duration", "1s");

        Assert.True(code == 0, error);
        Assert.Equal(22, r.GetProperty("connections").GetInt32());
        Assert.True(r.GetProperty("sent").GetInt64() > 0);
        Assert.Equal(r.GetProperty("sent").GetInt64() * 21, r.GetProperty("delivered").GetInt64());
        Assert.Equal(r.GetProperty("delivered").GetInt64(), r.GetProperty("latency_us").GetProperty("samples").GetInt64());
        Assert.True(r.GetProperty("latency_us").GetProperty("p99").GetDouble() > 0);
        Assert.True(r.GetProperty("server_rss_mb").GetDouble() > 0);
    }

    [Fact]
    public async Task Fanout_stops_at_max_messages()
    {
        var (code, r, error) = await RunAsync("fanout", "--subscribers", "5", "--duration", "10s", "--max-messages", "50");

        Assert.True(code == 0, error);
        Assert.Equal(50, r.GetProperty("sent").GetInt64());
        Assert.Equal(250, r.GetProperty("delivered").GetInt64());
    }

    [Fact]
    public async Task Rooms_reach_the_other_members_of_each_room()
    {
        var (code, r, error) = await RunAsync("rooms", "--connections", "40", "--room-size", "4", "--rate", "20", "--duration", "1s");

        Assert.True(code == 0, error);
        Assert.Equal(10, r.GetProperty("rooms").GetInt32());
        Assert.True(r.GetProperty("sent").GetInt64() > 100);
        Assert.Equal(r.GetProperty("sent").GetInt64() * 3, r.GetProperty("delivered").GetInt64());
    }

    [Fact]
    public async Task Idle_connections_stay_alive_and_report_server_memory()
    {
        var (code, r, error) = await RunAsync("idle", "--connections", "50", "--duration", "1s");

        Assert.True(code == 0, error);
        Assert.Equal(50, r.GetProperty("connections").GetInt32());
        Assert.Equal(50, r.GetProperty("alive").GetInt32());
        Assert.True(r.GetProperty("kb_per_conn").ValueKind == JsonValueKind.Number);
    }

    [Fact]
    public async Task Several_servers_take_the_connections_in_turn()
    {
        await using DaemonProcess second = await DaemonProcess.StartAsync();
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await LoadApp.RunAsync(["idle", "--connections", "6", "--duration", "1s", "--json", "--no-progress", "--server", _daemon.Address + "," + second.Address],
            output, error, interactive: false);

        Assert.True(code == 0, error.ToString());
        JsonElement r = JsonDocument.Parse(output.ToString()).RootElement;
        Assert.Equal(6, r.GetProperty("alive").GetInt32());
        Assert.Equal(_daemon.Address + "," + second.Address, r.GetProperty("server").GetString());
        // Connection i (user idle i) reached server i modulo 2, and only it: each server logs the close of its own.
        DaemonProcess[] servers = [_daemon, second];
        for (int i = 0; i < 6; i++)
        {
            await servers[i % 2].WaitForLineAsync(TimeSpan.FromSeconds(10), 0, $"user idle{i} from", "closed:");
            Assert.DoesNotContain($"user idle{i} from", servers[(i + 1) % 2].Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Churn_joins_leaves_and_reconnects_without_errors()
    {
        var (code, r, error) = await RunAsync("churn", "--connections", "10", "--room-size", "5", "--rate", "50", "--duration", "2s");

        Assert.True(code == 0, error);
        Assert.True(r.GetProperty("sent").GetInt64() > 20);
        Assert.Equal(r.GetProperty("sent").GetInt64(), r.GetProperty("delivered").GetInt64());
        Assert.True(r.GetProperty("connections").GetInt32() > 10, "workers reconnect");
        Assert.Equal(1, r.GetProperty("storms").GetInt32());
        Assert.Equal(r.GetProperty("connections").GetInt64(), r.GetProperty("connections_opened").GetInt64());
        Assert.Equal("open", r.GetProperty("loop").GetString());
        Assert.Equal(500, r.GetProperty("target_rate").GetDouble());
    }

    [Fact]
    public async Task An_unreachable_server_exits_with_2()
    {
        var error = new StringWriter();
        int code = await LoadApp.RunAsync(["fanout", "--server", $"127.0.0.1:{Ports.Free()}", "--no-progress"], new StringWriter(), error, interactive: false);

        Assert.Equal(2, code);
        Assert.Contains("cannot connect", error.ToString());
    }
}
