using PresenceD.Client.Internal;

namespace PresenceD.Client.Tests.Internal;

public sealed class EventDispatcherTests
{
    [Fact]
    public void Manual_mode_raises_nothing_until_asked_then_everything_in_order()
    {
        var seen = new List<string>();
        using var dispatcher = new EventDispatcher(EventDispatchMode.Manual, e => seen.Add(((UserPresenceEventArgs)e).User));

        dispatcher.Post(new UserPresenceEventArgs("r", "a", true));
        dispatcher.Post(new UserPresenceEventArgs("r", "b", true));
        Assert.Empty(seen);
        Assert.Equal(2, dispatcher.Pending);

        Assert.Equal(2, dispatcher.DispatchPending());
        Assert.Equal(["a", "b"], seen);
    }

    [Fact]
    public void A_throwing_handler_does_not_stop_later_events()
    {
        var seen = new List<string>();
        using var dispatcher = new EventDispatcher(EventDispatchMode.Manual, e =>
        {
            string user = ((UserPresenceEventArgs)e).User;
            if (user == "bad") throw new InvalidOperationException("handler bug");
            seen.Add(user);
        });

        dispatcher.Post(new UserPresenceEventArgs("r", "bad", true));
        dispatcher.Post(new UserPresenceEventArgs("r", "good", true));
        dispatcher.DispatchPending();

        Assert.Equal(["good"], seen);
    }

    [Fact]
    public async Task Background_mode_raises_events_off_the_posting_thread_in_order()
    {
        var seen = new List<string>();
        var done = new TaskCompletionSource();
        using var dispatcher = new EventDispatcher(EventDispatchMode.Background, e =>
        {
            lock (seen)
            {
                seen.Add(((UserPresenceEventArgs)e).User);
                if (seen.Count == 100) done.TrySetResult();
            }
        });

        for (int i = 0; i < 100; i++) dispatcher.Post(new UserPresenceEventArgs("r", i.ToString(System.Globalization.CultureInfo.InvariantCulture), true));
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(Enumerable.Range(0, 100).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), seen);
    }
}
