using System.Text.Json;
using PresenceD.Cli;
using PresenceD.Tests.Shared;

namespace PresenceD.Tools.Tests.Cli;

/// <summary>presence-cli's commands end to end against the real daemon.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await CliApp.RunAsync([.. args, "--server", _daemon.Address], output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Hello_prints_the_welcome()
    {
        var (code, output, _) = await RunAsync("hello", "--token", "ops");
        Assert.Equal(0, code);
        Assert.Contains("connected as ops", output);

        var (jsonCode, json, _) = await RunAsync("hello", "--token", "ops", "--json");
        Assert.Equal(0, jsonCode);
        JsonElement welcome = JsonDocument.Parse(json).RootElement;
        Assert.Equal("welcome", welcome.GetProperty("type").GetString());
        Assert.Equal("ops", welcome.GetProperty("user").GetString());
        Assert.True(welcome.GetProperty("heartbeat_ms").GetInt64() > 0);
    }

    [Fact]
    public async Task Tail_prints_messages_and_presence_diffs_published_by_another_command()
    {
        var tailOutput = new StringWriter();
        Task<int> tail = CliApp.RunAsync(["tail", "news", "--count", "2", "--for", "20", "--json", "--token", "watcher", "--server", _daemon.Address], tailOutput, new StringWriter());
        await Eventually.TrueAsync(() => tailOutput.ToString().Contains("\"joined\"", StringComparison.Ordinal), "tail to print its JOINED");

        var (code, output, _) = await RunAsync("publish", "news", "extra extra", "--count", "2", "--token", "editor");

        Assert.Equal(0, code);
        Assert.Contains("published 2 message(s) to news", output);
        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(20)));
        List<JsonElement> lines = tailOutput.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal("joined", lines[0].GetProperty("type").GetString());
        Assert.Contains(lines, l => l.GetProperty("type").GetString() == "presence_diff" && l.GetProperty("joins").EnumerateArray().Any(m => m.GetProperty("user").GetString() == "editor"));
        List<JsonElement> messages = lines.Where(l => l.GetProperty("type").GetString() == "message").ToList();
        Assert.Equal(2, messages.Count);
        Assert.All(messages, m => Assert.Equal("extra extra", m.GetProperty("payload").GetString()));
        Assert.All(messages, m => Assert.Equal("editor", m.GetProperty("from_user").GetString()));
    }

    [Fact]
    public async Task Presence_count_and_online_answer_about_a_live_member()
    {
        var tailOutput = new StringWriter();
        using var stop = new CancellationTokenSource();
        Task<int> tail = CliApp.RunAsync(["tail", "ops-room", "--token", "sam", "--server", _daemon.Address], tailOutput, new StringWriter(), stop.Token);
        await Eventually.TrueAsync(() => tailOutput.ToString().Contains("joined ops-room", StringComparison.Ordinal), "tail to print that it joined ops-room");

        var (presenceCode, presence, _) = await RunAsync("presence", "ops-room", "--json");
        var (countCode, count, _) = await RunAsync("count", "ops-room");
        var (onlineCode, online, _) = await RunAsync("online", "sam", "nobody");
        var (joinCode, join, _) = await RunAsync("join", "ops-room", "--meta", "busy", "--token", "kim");
        stop.Cancel();

        Assert.Equal((0, 0, 0, 0), (presenceCode, countCode, onlineCode, joinCode));
        JsonElement state = JsonDocument.Parse(presence).RootElement;
        Assert.Equal(1, state.GetProperty("total").GetInt64());
        Assert.Equal("sam", state.GetProperty("members")[0].GetProperty("user").GetString());
        Assert.Contains("ops-room: 1 connection(s), 1 user(s)", count);
        Assert.Contains("sam\tonline", online);
        Assert.Contains("nobody\toffline", online);
        Assert.Contains("joined ops-room: 2 member(s)", join);
        Assert.Contains("kim", join);
        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task An_unreachable_server_is_a_clear_error_with_exit_code_2()
    {
        var error = new StringWriter();
        int code = await CliApp.RunAsync(["count", "x", "--server", $"127.0.0.1:{Ports.Free()}"], new StringWriter(), error);

        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains("cannot connect", error.ToString());
    }

    [Fact]
    public async Task A_refusal_is_a_clear_error_with_exit_code_3()
    {
        var (code, _, error) = await RunAsync("presence", "bad\u0001room");

        Assert.Equal(ExitCodes.Refused, code);
        Assert.Contains("server refused: BAD_REQUEST", error);
    }

    [Fact]
    public async Task Bad_arguments_exit_with_1()
    {
        var (code, _, _) = await RunAsync("count");
        Assert.Equal(ExitCodes.Usage, code);
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Usage, await CliApp.RunAsync(["hello", "--server", "nohost:notaport"], new StringWriter(), error));
        Assert.Contains("not host:port", error.ToString());
    }
}
