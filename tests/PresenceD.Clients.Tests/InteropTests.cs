using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PresenceD.Client;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Clients.Tests;

/// <summary>
/// The C client (interop_peer, printing its events as lines), the C# client (in this process) and presence-cli
/// (tail, publish and join, as processes) in one room of one daemon: each sees the others' joins, metas and
/// messages, byte for byte. Metas and payloads are mostly not valid UTF-8, so nothing is "fixed up" on the way.
/// </summary>
public sealed class InteropTests : IAsyncLifetime
{
    private const string Room = "interop";
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    [Fact]
    public async Task CClientCSharpClientAndCliSeeEachOtherByteForByte()
    {
        byte[] cMeta = [0x00, 0xc1, 0x63], csMeta = [0xff, 0x00, 0x23];
        string peer = await CPeer.BuildAsync();

        // The C client joins first.
        await using LineProcess c = LineProcess.Start(peer, [_daemon.Address, "c-user", Room, Hex(cMeta)]);
        string cConn = Group(await c.WaitAsync(l => l.StartsWith("WELCOME ", StringComparison.Ordinal), "WELCOME"), @" conn=(\S+)");
        await c.WaitAsync(l => l.StartsWith("JOINED ", StringComparison.Ordinal) && l.Contains($"members=[c-user/{cConn}:{Hex(cMeta)}]"), "its JOINED");

        // The C# client sees it in its snapshot; the C client sees the C# client's join and meta.
        var events = new EventLog();
        await using var cs = new PresenceClient(new PresenceClientOptions { Credential = "cs-user", ClientName = "interop-cs" }.WithServer(_daemon.Address));
        cs.MessageReceived += (_, m) => events.Add(m);
        cs.PresenceChanged += (_, p) => events.Add(p);
        string csConn = (await cs.ConnectAsync()).Conn;
        PresenceD.Client.JoinedMessage csJoined = await cs.JoinAsync(Room, csMeta);
        PresenceD.Client.Member cSeenByCs = Assert.Single(csJoined.Members, m => m.User == "c-user");
        Assert.Equal(cConn, cSeenByCs.Conn);
        Assert.Equal(cMeta, cSeenByCs.Meta);
        await c.WaitAsync(l => IsDiff(l) && l.Contains($"joins=[cs-user/{csConn}:{Hex(csMeta)}]"), "the C# client's join");

        // The CLI tails the room: its snapshot has both metas, and both clients see it join (meta nil).
        await using LineProcess tail = LineProcess.Start(RepoPaths.Cli, ["tail", Room, "--json", "--server", _daemon.Address, "--token", "cli-user"]);
        JsonElement snapshot = Json(await tail.WaitAsync(l => l.Contains("\"type\":\"joined\"", StringComparison.Ordinal), "its snapshot"));
        Assert.Equal(Convert.ToBase64String(cMeta), MemberOf(snapshot, "members", "c-user").GetProperty("meta_base64").GetString());
        Assert.Equal(cConn, MemberOf(snapshot, "members", "c-user").GetProperty("conn").GetString());
        Assert.Equal(Convert.ToBase64String(csMeta), MemberOf(snapshot, "members", "cs-user").GetProperty("meta_base64").GetString());
        string cliConn = MemberOf(snapshot, "members", "cli-user").GetProperty("conn").GetString()!;
        await c.WaitAsync(l => IsDiff(l) && l.Contains($"joins=[cli-user/{cliConn}:-]"), "the CLI's join");
        await events.WaitAsync<PresenceChangedEventArgs>(p => p.Joined.Any(m => m.User == "cli-user" && m.Conn == cliConn && m.Meta is null), "the CLI's join");

        // A message from the C client.
        byte[] fromC = [0x00, 0xff, 0x41, 0xc1];
        c.Send("publish " + Hex(fromC));
        RoomMessageEventArgs m1 = await events.WaitAsync<RoomMessageEventArgs>(m => m.FromUser == "c-user", "the C client's message");
        Assert.Equal((Room, cConn), (m1.Room, m1.FromConn));
        Assert.Equal(fromC, m1.Payload);
        JsonElement t1 = Json(await tail.WaitAsync(l => IsJsonMessageFrom(l, "c-user"), "the C client's message"));
        Assert.Equal(Convert.ToBase64String(fromC), t1.GetProperty("payload_base64").GetString());
        Assert.Equal(cConn, t1.GetProperty("from_conn").GetString());

        // A message from the C# client.
        byte[] fromCs = [0xc0, 0x01, 0x02, 0xfe];
        await cs.PublishAsync(Room, fromCs);
        await c.WaitAsync(l => l.StartsWith("MESSAGE ", StringComparison.Ordinal) && l.Contains($"room={Room} from=cs-user/{csConn} offset=0 payload={Hex(fromCs)}"), "the C# client's message");
        JsonElement t2 = Json(await tail.WaitAsync(l => IsJsonMessageFrom(l, "cs-user"), "the C# client's message"));
        Assert.Equal(Convert.ToBase64String(fromCs), t2.GetProperty("payload_base64").GetString());

        // A message from the CLI (its own connection: join, publish, leave).
        const string text = "héllo wörld";
        byte[] fromCli = Encoding.UTF8.GetBytes(text);
        (int code, string output) = await UnityPackageTests.RunAsync(Exe(RepoPaths.Cli), Args(RepoPaths.Cli, ["publish", Room, text, "--server", _daemon.Address, "--token", "cli-pub"]), TimeSpan.FromSeconds(60));
        Assert.True(code == 0, output);
        await c.WaitAsync(l => IsDiff(l) && l.Contains("joins=[cli-pub/"), "the CLI publisher's join");
        await c.WaitAsync(l => l.StartsWith("MESSAGE ", StringComparison.Ordinal) && l.Contains("from=cli-pub/") && l.EndsWith($"payload={Hex(fromCli)}", StringComparison.Ordinal), "the CLI's message");
        await c.WaitAsync(l => IsDiff(l) && l.Contains("leaves=[cli-pub/"), "the CLI publisher's leave");
        RoomMessageEventArgs m3 = await events.WaitAsync<RoomMessageEventArgs>(m => m.FromUser == "cli-pub", "the CLI's message");
        Assert.Equal(fromCli, m3.Payload);
        JsonElement t3 = Json(await tail.WaitAsync(l => IsJsonMessageFrom(l, "cli-pub"), "the CLI's message"));
        Assert.Equal(text, t3.GetProperty("payload").GetString());

        // Metas changed by the C client and by the C# client.
        byte[] cMeta2 = [0x01, 0x02, 0xff];
        c.Send("update " + Hex(cMeta2));
        await events.WaitAsync<PresenceChangedEventArgs>(p => p.Updated.Any(m => m.User == "c-user" && m.Meta!.SequenceEqual(cMeta2)), "the C client's new meta");
        JsonElement d1 = Json(await tail.WaitAsync(l => IsJsonDiff(l, "updates", "c-user"), "the C client's new meta"));
        Assert.Equal(Convert.ToBase64String(cMeta2), MemberOf(d1, "updates", "c-user").GetProperty("meta_base64").GetString());
        byte[] csMeta2 = [0x7f, 0x80];
        await cs.UpdateAsync(Room, csMeta2);
        await c.WaitAsync(l => IsDiff(l) && l.Contains($"leaves=[cs-user/{csConn}:{Hex(csMeta)}] joins=[cs-user/{csConn}:{Hex(csMeta2)}]"), "the C# client's new meta");
        JsonElement d2 = Json(await tail.WaitAsync(l => IsJsonDiff(l, "updates", "cs-user"), "the C# client's new meta"));
        Assert.Equal(Convert.ToBase64String(csMeta2), MemberOf(d2, "updates", "cs-user").GetProperty("meta_base64").GetString());

        // The CLI joins with a meta: its snapshot shows the new metas, the clients see its meta.
        (code, output) = await UnityPackageTests.RunAsync(Exe(RepoPaths.Cli), Args(RepoPaths.Cli, ["join", Room, "--meta", "cli meta", "--json", "--server", _daemon.Address, "--token", "cli-join"]), TimeSpan.FromSeconds(60));
        Assert.True(code == 0, output);
        JsonElement joined = Json(output.Split('\n').First(l => l.Contains("\"type\":\"joined\"", StringComparison.Ordinal)));
        Assert.Equal(Convert.ToBase64String(cMeta2), MemberOf(joined, "members", "c-user").GetProperty("meta_base64").GetString());
        Assert.Equal(Convert.ToBase64String(csMeta2), MemberOf(joined, "members", "cs-user").GetProperty("meta_base64").GetString());
        Assert.Equal("cli meta", MemberOf(joined, "members", "cli-join").GetProperty("meta").GetString());
        await c.WaitAsync(l => IsDiff(l) && l.Contains($"joins=[cli-join/") && l.Contains($":{Hex(Encoding.UTF8.GetBytes("cli meta"))}]"), "the CLI joiner's meta");
        await events.WaitAsync<PresenceChangedEventArgs>(p => p.Joined.Any(m => m.User == "cli-join" && m.Meta!.SequenceEqual(Encoding.UTF8.GetBytes("cli meta"))), "the CLI joiner's meta");

        // The C client leaves: the others see it go.
        c.Send("quit");
        Assert.Equal(0, await c.WaitForExitAsync(10000));
        await events.WaitAsync<PresenceChangedEventArgs>(p => p.Left.Any(m => m.User == "c-user" && m.Conn == cConn), "the C client's leave");
        await tail.WaitAsync(l => IsJsonDiff(l, "leaves", "c-user"), "the C client's leave");
    }

    private static bool IsDiff(string line) => line.StartsWith("PRESENCE_DIFF ", StringComparison.Ordinal);

    private static bool IsJsonMessageFrom(string line, string user) =>
        line.Contains("\"type\":\"message\"", StringComparison.Ordinal) && line.Contains($"\"from_user\":\"{user}\"", StringComparison.Ordinal);

    private static bool IsJsonDiff(string line, string list, string user)
    {
        if (!line.Contains("\"type\":\"presence_diff\"", StringComparison.Ordinal)) return false;
        return Json(line).GetProperty(list).EnumerateArray().Any(m => m.GetProperty("user").GetString() == user);
    }

    private static JsonElement MemberOf(JsonElement message, string list, string user) =>
        Assert.Single(message.GetProperty(list).EnumerateArray(), m => m.GetProperty("user").GetString() == user);

    private static JsonElement Json(string line)
    {
        using JsonDocument doc = JsonDocument.Parse(line);
        return doc.RootElement.Clone();
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    private static string Group(string line, string pattern) => Regex.Match(line, pattern).Groups[1].Value;

    private static string Exe(string tool) => tool.EndsWith(".dll", StringComparison.Ordinal) ? "dotnet" : tool;

    private static string[] Args(string tool, string[] args) => tool.EndsWith(".dll", StringComparison.Ordinal) ? [tool, .. args] : args;

    /// <summary>The C# client's events as they arrive (raised on its background dispatcher).</summary>
    private sealed class EventLog
    {
        private readonly ConcurrentQueue<EventArgs> _events = new();

        public void Add(EventArgs e) => _events.Enqueue(e);

        public async Task<T> WaitAsync<T>(Func<T, bool> match, string what, int timeoutMs = 15000) where T : EventArgs
        {
            var clock = Stopwatch.StartNew();
            while (clock.ElapsedMilliseconds < timeoutMs)
            {
                foreach (EventArgs e in _events)
                    if (e is T t && match(t)) return t;
                await Task.Delay(10);
            }
            Assert.Fail($"the C# client saw no {typeof(T).Name} with {what} within {timeoutMs} ms (it saw {_events.Count} events)");
            return null!;
        }
    }
}
