using System.Collections.Concurrent;
using PresenceD.Tests.Shared;

namespace PresenceD.Client.Tests.Integration;

/// <summary>Records every event a client raises, in order, and lets a test wait for one.</summary>
internal sealed class ClientEventLog
{
    private readonly ConcurrentQueue<EventArgs> _events = new();

    public ClientEventLog(PresenceClient client)
    {
        client.MessageReceived += (_, e) => Add(e);
        client.PresenceChanged += (_, e) => Add(e);
        client.UserPresenceChanged += (_, e) => Add(e);
        client.RoomRejoined += (_, e) => Add(e);
        client.StateChanged += (_, e) => Add(e);
        client.TokenRefreshed += (_, e) => Add(e);
        client.TokenRefreshFailed += (_, e) => Add(e);
    }

    public IReadOnlyList<EventArgs> All => [.. _events];

    public IEnumerable<T> OfType<T>() => All.OfType<T>();

    /// <summary>Waits (at most <paramref name="seconds"/>) for an event of type T matching <paramref name="match"/>.</summary>
    public Task<T> WaitForAsync<T>(Func<T, bool> match, double seconds = 15) where T : EventArgs =>
        Eventually.ValueAsync(() => OfType<T>().FirstOrDefault(match), $"a matching {typeof(T).Name}", TimeSpan.FromSeconds(seconds),
            () => "events: " + string.Join(", ", All.Select(Describe)));

    private void Add(EventArgs e) => _events.Enqueue(e);

    private static string Describe(EventArgs e) => e switch
    {
        UserPresenceEventArgs u => $"user {u.User} {(u.Online ? "online" : "offline")}",
        ConnectionStateChangedEventArgs s => $"state {s.Current}",
        RoomRejoinedEventArgs r => $"rejoined {r.Room} recovered={r.Recovered}",
        RoomMessageEventArgs m => $"message #{m.Offset}",
        PresenceChangedEventArgs p => $"presence +{p.Joined.Count} -{p.Left.Count} ~{p.Updated.Count}",
        TokenRefreshedEventArgs t => $"token refreshed exp={t.Exp} left=[{string.Join(",", t.LeftRooms)}]",
        TokenRefreshFailedEventArgs f => $"token refresh failed: {f.Error.Message}",
        _ => e.GetType().Name,
    };
}
