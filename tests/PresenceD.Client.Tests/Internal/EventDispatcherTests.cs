using PresenceD.Client.Internal;
using PresenceD.Client.Tests.Support;

namespace PresenceD.Client.Tests.Internal;

public sealed class EventDispatcherTests
{
    [Fact]
    public void Manual_mode_raises_nothing_until_asked_then_everything_in_order()
    {
        var seen = new List<string>();
        using var dispatcher = new EventDispatcher(EventDispatchMode.Manual, 100, null, e => seen.Add(((UserPresenceEventArgs)e).User));

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
        using var dispatcher = new EventDispatcher(EventDispatchMode.Manual, 100, null, e =>
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
        using var dispatcher = new EventDispatcher(EventDispatchMode.Background, 1000, null, e =>
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

    [Fact]
    public void Past_the_bound_the_oldest_events_are_dropped_and_counted()
    {
        var seen = new List<string>();
        using var dispatcher = new EventDispatcher(EventDispatchMode.Manual, 3, null, e => seen.Add(((UserPresenceEventArgs)e).User));

        foreach (string user in new[] { "a", "b", "c", "d", "e" }) dispatcher.Post(new UserPresenceEventArgs("r", user, true));

        Assert.Equal(3, dispatcher.Pending);
        Assert.Equal(2, dispatcher.Dropped);
        Assert.Equal(3, dispatcher.DispatchPending());
        Assert.Equal(["c", "d", "e"], seen);
        Assert.Equal(0, dispatcher.Pending);
    }

    [Fact]
    public async Task Context_mode_raises_events_on_the_context_in_order()
    {
        using var context = new SingleThreadContext();
        var seen = new List<(string User, int Thread)>();
        var done = new TaskCompletionSource();
        using var dispatcher = new EventDispatcher(EventDispatchMode.SynchronizationContext, 1000, context, e =>
        {
            seen.Add((((UserPresenceEventArgs)e).User, Environment.CurrentManagedThreadId));
            if (seen.Count == 50) done.TrySetResult();
        });

        for (int i = 0; i < 50; i++) dispatcher.Post(new UserPresenceEventArgs("r", i.ToString(System.Globalization.CultureInfo.InvariantCulture), true));
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(Enumerable.Range(0, 50).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), seen.Select(s => s.User));
        Assert.All(seen, s => Assert.Equal(context.ThreadId, s.Thread));
    }
}
