using System.Globalization;
using System.Text;
using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

/// <summary>Manual event dispatch when nobody pumps (a Unity app in the background): the queue stays bounded.</summary>
public sealed class ManualDispatchTests : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync("--send-queue-limit", "16777216");

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    [Fact]
    public async Task Unpumped_events_stop_at_the_default_bound_and_the_newest_are_kept_in_order()
    {
        const int Bound = 10_000;
        const int Sent = Bound + 500;
        await using var unity = new PresenceClient(new PresenceClientOptions { Credential = "unity", EventDispatch = EventDispatchMode.Manual }.WithServer(_daemon.Address));
        await using var publisher = new PresenceClient(new PresenceClientOptions { Credential = "publisher", RequestTimeout = TimeSpan.FromSeconds(30) }.WithServer(_daemon.Address));
        var seen = new List<int>();
        unity.MessageReceived += (_, m) => seen.Add(int.Parse(Encoding.ASCII.GetString(m.Payload), CultureInfo.InvariantCulture));
        await unity.ConnectAsync();
        await unity.JoinAsync("flood");
        await publisher.ConnectAsync();
        await publisher.JoinAsync("flood");

        for (int i = 0; i < Sent - 1; i++) publisher.Publish("flood", Encoding.ASCII.GetBytes(i.ToString(CultureInfo.InvariantCulture)));
        // The OK follows the fan-out of every earlier publish, and unity's PONG follows every MESSAGE queued to it.
        await publisher.PublishAsync("flood", Encoding.ASCII.GetBytes((Sent - 1).ToString(CultureInfo.InvariantCulture)));
        await unity.PingAsync();

        Assert.Equal(Bound, unity.PendingEvents);
        Assert.Equal(Bound, unity.DispatchEvents());
        Assert.Equal(Enumerable.Range(Sent - Bound, Bound), seen);
        Assert.Equal(0, unity.PendingEvents);
    }
}
