using PresenceD.Server.Configuration;
using PresenceD.Server.History;

namespace PresenceD.Server.Tests.History;

public sealed class HistoryStoreTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("", "chat", false)]
    [InlineData("chat", "chat", true)]
    [InlineData("chat", "chatter", false)]
    [InlineData("chat:*", "chat:1", true)]
    [InlineData("chat:*", "chat:", true)]
    [InlineData("chat:*", "chat", false)]
    [InlineData(" lobby , chat:* ", "lobby", true)]
    [InlineData(" lobby , chat:* ", "chat:x", true)]
    [InlineData(" lobby , chat:* ", "game", false)]
    [InlineData("*", "anything", true)]
    [InlineData("Chat", "chat", false)]
    public void Pattern_matching(string patterns, string room, bool matches)
    {
        Assert.Equal(matches, RoomPatternSet.Parse(patterns).Matches(room));
        var store = new HistoryStore(patterns, 10, Ttl, new FakeClock());
        Assert.Equal(matches, store.Get(room) is not null);
    }

    [Theory]
    [InlineData("a,,b")]
    [InlineData("a*b")]
    [InlineData("*a")]
    [InlineData("a,")]
    public void Bad_patterns(string patterns) => Assert.Throws<FormatException>(() => RoomPatternSet.Parse(patterns));

    [Fact]
    public void Get_returns_the_same_history_and_epochs_differ_per_room_and_process()
    {
        var clock = new FakeClock();
        var store = new HistoryStore("chat:*", 10, Ttl, clock);
        RoomHistory a = store.Get("chat:a")!;
        Assert.Same(a, store.Get("chat:a"));
        Assert.Same(a, store.Find("chat:a"));
        Assert.Null(store.Find("chat:b"));
        RoomHistory b = store.Get("chat:b")!;
        Assert.NotEqual(a.Epoch, b.Epoch);
        Assert.StartsWith(store.ProcessEpoch + "-", a.Epoch, StringComparison.Ordinal);
        Assert.Equal(16, store.ProcessEpoch.Length);

        var restarted = new HistoryStore("chat:*", 10, Ttl, clock);
        Assert.NotEqual(store.ProcessEpoch, restarted.ProcessEpoch);
        Assert.NotEqual(a.Epoch, restarted.Get("chat:a")!.Epoch);
    }

    [Fact]
    public void A_fully_expired_history_is_dropped_and_recreated_with_a_new_epoch()
    {
        var clock = new FakeClock(1_000);
        var store = new HistoryStore("chat:*", 10, Ttl, clock);
        RoomHistory first = store.Get("chat:a")!;
        lock (first.SyncRoot)
        {
            first.Append(first.NextOffset(), [1, 2, 3], 2_000);
        }

        Assert.Equal(0, store.DropExpired(11_999)); // message still held
        Assert.Equal(1, store.DropExpired(12_000));
        Assert.True(first.IsRetired);
        Assert.Equal(0, store.Count);
        Assert.False(first.TryReplay(0, 12_000, 0, static (_, _) => { }));

        RoomHistory second = store.Get("chat:a")!;
        Assert.NotSame(first, second);
        Assert.NotEqual(first.Epoch, second.Epoch);
        Assert.Equal(0, second.LastOffset);
    }

    [Fact]
    public void A_new_history_is_not_dropped_before_a_ttl_passed()
    {
        var clock = new FakeClock(5_000);
        var store = new HistoryStore("*", 10, Ttl, clock);
        RoomHistory history = store.Get("room")!;
        Assert.Equal(0, store.DropExpired(14_999));
        Assert.Same(history, store.Get("room"));
        Assert.Equal(1, store.DropExpired(15_000));
    }

    [Fact]
    public void Reconfigure_drops_unmatched_rooms_and_resizes_the_rest()
    {
        var store = new HistoryStore("chat:*,lobby", 10, Ttl, new FakeClock());
        RoomHistory chat = store.Get("chat:a")!;
        RoomHistory lobby = store.Get("lobby")!;

        store.Reconfigure("chat:*", 3, TimeSpan.FromSeconds(30));

        Assert.True(lobby.IsRetired);
        Assert.Null(store.Get("lobby"));
        Assert.Same(chat, store.Get("chat:a"));
        Assert.Equal(3, chat.Capacity);
        Assert.Equal(3, store.Get("chat:new")!.Capacity);

        store.Reconfigure("", 3, Ttl);
        Assert.False(store.IsEnabled);
        Assert.Null(store.Get("chat:a"));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void Concurrent_publishers_get_gapless_offsets()
    {
        var store = new HistoryStore("*", 100_000, Ttl, new FakeClock());
        const int threads = 4;
        const int perThread = 10_000;
        Parallel.For(0, threads, _ =>
        {
            for (int i = 0; i < perThread; i++)
            {
                RoomHistory history = store.Get("room")!;
                lock (history.SyncRoot)
                {
                    long offset = history.NextOffset();
                    history.Append(offset, BitConverter.GetBytes(offset), 0);
                }
            }
        });

        RoomHistory room = store.Get("room")!;
        Assert.Equal(threads * perThread, room.LastOffset);
        long expected = 1;
        Assert.True(room.TryReplay(0, 0, 0, (_, frame) => Assert.Equal(expected++, BitConverter.ToInt64(frame.Span))));
        Assert.Equal(threads * perThread + 1, expected);
    }
}
