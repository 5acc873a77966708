using System.Text;
using PresenceD.Client.Tests.Support;
using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

/// <summary>EventDispatchMode.SynchronizationContext raises every event on the application's own thread.</summary>
public sealed class SynchronizationContextTests : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Events_are_raised_on_the_context_given_or_captured_at_creation(bool captured)
    {
        using var mainThread = new SingleThreadContext();
        var options = new PresenceClientOptions { Credential = "ui", EventDispatch = EventDispatchMode.SynchronizationContext }.WithServer(_daemon.Address);
        if (!captured) options.SynchronizationContext = mainThread;
        await using PresenceClient client = captured ? await mainThread.RunAsync(() => new PresenceClient(options)) : new PresenceClient(options);
        var threads = new List<(string Event, int Thread, bool OnContext)>();
        void Seen(string name)
        {
            lock (threads) threads.Add((name, Environment.CurrentManagedThreadId, SynchronizationContext.Current == mainThread));
        }
        client.StateChanged += (_, _) => Seen("state");
        client.PresenceChanged += (_, _) => Seen("presence");
        client.UserPresenceChanged += (_, _) => Seen("user");
        client.MessageReceived += (_, _) => Seen("message");
        var log = new ClientEventLog(client);
        await using var other = new PresenceClient(new PresenceClientOptions { Credential = "other" }.WithServer(_daemon.Address));

        await client.ConnectAsync();
        await client.JoinAsync("room");
        await other.ConnectAsync();
        await other.JoinAsync("room");
        await other.PublishAsync("room", Encoding.UTF8.GetBytes("hi"));
        await log.WaitForAsync<RoomMessageEventArgs>(m => m.FromUser == "other");

        lock (threads)
        {
            Assert.Contains(threads, t => t.Event == "message");
            Assert.Contains(threads, t => t.Event == "state");
            Assert.All(threads, t => Assert.True(t.Thread == mainThread.ThreadId && t.OnContext, $"{t.Event} raised on thread {t.Thread}"));
        }
    }

    [Fact]
    public void Without_a_context_the_mode_is_refused_at_creation()
    {
        SynchronizationContext? before = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            var options = new PresenceClientOptions { EventDispatch = EventDispatchMode.SynchronizationContext };
            Assert.Throws<InvalidOperationException>(() => new PresenceClient(options));
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(before);
        }
    }
}
