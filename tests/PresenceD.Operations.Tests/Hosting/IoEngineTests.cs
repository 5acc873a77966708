using PresenceD.Operations.Tests.Support;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Hosting;

/// <summary>
/// io_engine as an operator sees it: the start line and /metrics name the engine in use, and where the kernel refuses
/// io_uring (as containers and hardened hosts do) the daemon says why, sends with epoll, and serves as before.
/// The refusal is the kernel's own (kernel.io_uring_disabled), so these tests need root and run alone.
/// </summary>
[Collection(IoUringSysctlCollection.Name)]
public sealed class IoEngineTests
{
    internal const string DisabledSysctl = "/proc/sys/kernel/io_uring_disabled";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [RequiresIoUringSysctlFact]
    public async Task Where_the_kernel_refuses_io_uring_the_daemon_warns_sends_with_epoll_and_fan_out_works()
    {
        string before = File.ReadAllText(DisabledSysctl).Trim();
        File.WriteAllText(DisabledSysctl, "2"); // io_uring_setup fails with EPERM for every process
        try
        {
            int port = Ports.Free();
            int adminPort = Ports.Free();
            await using DaemonProcess daemon = await DaemonProcess.StartAsync(DaemonSetup.WithConfig(port, "io_engine io_uring", $"admin_port {adminPort}"));

            Assert.Contains(daemon.Lines, l => l.Contains("io_engine io_uring: io_uring_setup failed: errno 1 (EPERM); sending with epoll instead", StringComparison.Ordinal));
            Assert.Contains(daemon.Lines, l => l.Contains("presenced listening on", StringComparison.Ordinal) && l.EndsWith("io_engine epoll)", StringComparison.Ordinal));
            await AssertFanOutWorksAsync(port);
            Dictionary<string, double> samples = await ScrapeAsync(adminPort);
            Assert.Equal(1, PrometheusText.Value(samples, "presenced_io_engine{engine=\"epoll\"}"));
            Assert.Equal(0, PrometheusText.Value(samples, "presenced_io_engine{engine=\"io_uring\"}"));
        }
        finally
        {
            File.WriteAllText(DisabledSysctl, before);
        }
    }

    [Fact]
    public async Task By_default_the_daemon_sends_with_io_uring_and_says_so()
    {
        int port = Ports.Free();
        int adminPort = Ports.Free();
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(DaemonSetup.WithConfig(port, $"admin_port {adminPort}"));

        Assert.Contains(daemon.Lines, l => l.Contains("presenced listening on", StringComparison.Ordinal) && l.EndsWith("io_engine io_uring)", StringComparison.Ordinal));
        await AssertFanOutWorksAsync(port);
        Dictionary<string, double> samples = await ScrapeAsync(adminPort);
        Assert.Equal(1, PrometheusText.Value(samples, "presenced_io_engine{engine=\"io_uring\"}"));
        Assert.Equal(0, PrometheusText.Value(samples, "presenced_send_ring_failures_total"));
    }

    [Fact]
    public async Task Io_engine_epoll_is_honoured_as_configured()
    {
        int port = Ports.Free();
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(DaemonSetup.WithConfig(port, "io_engine epoll"));

        Assert.Contains(daemon.Lines, l => l.Contains("presenced listening on", StringComparison.Ordinal) && l.EndsWith("io_engine epoll)", StringComparison.Ordinal));
        Assert.DoesNotContain(daemon.Lines, l => l.Contains("sending with epoll instead", StringComparison.Ordinal));
        await AssertFanOutWorksAsync(port);
    }

    // Twenty members, each publish reaching the other nineteen in order: the send path works end to end.
    private static async Task AssertFanOutWorksAsync(int port)
    {
        var members = new List<TestClient>();
        try
        {
            for (int i = 0; i < 20; i++)
            {
                TestClient member = await TestClient.HelloAsync(Ports.Loopback(port), "m" + i);
                members.Add(member);
                await member.SendAsync(b => ClientFrames.Join(b, 2, "engine"));
                await member.ExpectAsync<JoinedMessage>();
                // Everyone already in the room hears of the newcomer first.
                foreach (TestClient earlier in members.Take(i)) await earlier.ExpectAsync<PresenceDiffMessage>(Wait);
            }
            for (int n = 0; n < 5; n++)
            {
                byte[] payload = [(byte)n, 1, 2, 3];
                await members[0].SendAsync(b => ClientFrames.Publish(b, (uint)(10 + n), "engine", payload));
                await members[0].ExpectAsync<OkMessage>();
            }
            foreach (TestClient member in members.Skip(1))
            {
                for (int n = 0; n < 5; n++)
                {
                    RoomMessage message = await member.ExpectAsync<RoomMessage>(Wait);
                    Assert.Equal(new byte[] { (byte)n, 1, 2, 3 }, message.Payload.ToArray());
                }
            }
        }
        finally
        {
            foreach (TestClient member in members) await member.DisposeAsync();
        }
    }

    private static async Task<Dictionary<string, double>> ScrapeAsync(int adminPort)
    {
        using var http = new HttpClient();
        return PrometheusText.Parse(await http.GetStringAsync($"http://127.0.0.1:{adminPort}/metrics"));
    }
}

/// <summary>The tests that change kernel.io_uring_disabled run alone: no other daemon starts meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IoUringSysctlCollection
{
    public const string Name = "io_uring sysctl";
}

/// <summary>A fact skipped, saying why, where the test cannot set kernel.io_uring_disabled (not root, or a kernel before 6.6).</summary>
internal sealed class RequiresIoUringSysctlFactAttribute : FactAttribute
{
    public RequiresIoUringSysctlFactAttribute()
    {
        if (!File.Exists(IoEngineTests.DisabledSysctl) || Environment.UserName != "root")
        {
            Skip = $"needs root and {IoEngineTests.DisabledSysctl} (Linux 6.6+) to make the kernel refuse io_uring";
        }
    }
}
