using System.Text;
using PresenceD.Server.History;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.History;

public sealed class RoomHistoryTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    private static long Publish(RoomHistory history, string text, long nowMs)
    {
        lock (history.SyncRoot)
        {
            long offset = history.NextOffset();
            history.Append(offset, Encoding.UTF8.GetBytes($"{offset}:{text}"), nowMs);
            return offset;
        }
    }

    private static (bool Ok, List<string> Frames) Replay(RoomHistory history, long after, long nowMs)
    {
        var frames = new List<string>();
        bool ok = history.TryReplay(after, nowMs, frames, static (list, frame) => list.Add(Encoding.UTF8.GetString(frame.Span)));
        return (ok, frames);
    }

    private static void AssertReplays(RoomHistory history, long after, long nowMs, string[] expected)
    {
        (bool ok, List<string> frames) = Replay(history, after, nowMs);
        Assert.True(ok);
        Assert.Equal(expected, frames);
    }

    [Fact]
    public void Offsets_start_at_one_and_grow_by_one()
    {
        var history = new RoomHistory("e-1", 10, Ttl, 0);
        Assert.Equal(0, history.LastOffset);
        Assert.Equal([1L, 2L, 3L], new[] { Publish(history, "a", 0), Publish(history, "b", 0), Publish(history, "c", 0) });
        Assert.Equal(3, history.LastOffset);
        Assert.Throws<InvalidOperationException>(() => history.Append(5, [1], 0));
        Assert.Throws<InvalidOperationException>(() => history.Append(3, [1], 0));
    }

    [Fact]
    public void Replay_returns_exactly_the_messages_after_the_offset_in_order()
    {
        var history = new RoomHistory("e-1", 10, Ttl, 0);
        for (int i = 0; i < 5; i++)
        {
            Publish(history, $"m{i}", i);
        }

        AssertReplays(history, 2, 10, ["3:m2", "4:m3", "5:m4"]);
        AssertReplays(history, 0, 10, ["1:m0", "2:m1", "3:m2", "4:m3", "5:m4"]);
        AssertReplays(history, 5, 10, []);
        Assert.False(Replay(history, 6, 10).Ok);
        Assert.False(Replay(history, -1, 10).Ok);
    }

    [Fact]
    public void Eviction_by_size_keeps_the_newest()
    {
        var history = new RoomHistory("e-1", 3, Ttl, 0);
        for (int i = 1; i <= 7; i++)
        {
            Publish(history, $"m{i}", 0);
        }

        Assert.Equal(3, history.Count(0));
        AssertReplays(history, 4, 0, ["5:m5", "6:m6", "7:m7"]);
        Assert.False(Replay(history, 3, 0).Ok); // message 4 is gone
        Assert.False(Replay(history, 0, 0).Ok);
    }

    [Fact]
    public void Eviction_by_ttl_is_lazy_and_exact()
    {
        var history = new RoomHistory("e-1", 100, Ttl, 0);
        Publish(history, "old", 1_000);
        Publish(history, "new", 6_000);

        Assert.True(Replay(history, 0, 10_999).Ok);
        Assert.False(Replay(history, 0, 11_000).Ok); // message 1 expired at 1000 + 10s
        AssertReplays(history, 1, 11_000, ["2:new"]);
        Assert.Equal(1, history.Count(11_000));
        AssertReplays(history, 2, 16_000, []);
        Assert.Equal(0, history.Count(16_000));
        Assert.Equal(2, history.LastOffset); // offsets survive expiry within an epoch
        Assert.Equal(3, Publish(history, "later", 20_000));
    }

    [Fact]
    public void Frames_of_any_size_round_trip()
    {
        var history = new RoomHistory("e-1", 4, Ttl, 0);
        byte[][] frames = [[], [7], [.. Enumerable.Range(0, 70_000).Select(i => (byte)i)]];
        foreach (byte[] frame in frames)
        {
            lock (history.SyncRoot)
            {
                history.Append(history.NextOffset(), frame, 0);
            }
        }

        var seen = new List<byte[]>();
        Assert.True(history.TryReplay(0, 0, seen, static (list, frame) => list.Add(frame.ToArray())));
        Assert.Equal(frames, seen);
    }

    [Fact]
    public void Reconfigure_shrinks_to_the_newest_messages_and_applies_the_new_ttl()
    {
        var history = new RoomHistory("e-1", 10, Ttl, 0);
        for (int i = 1; i <= 6; i++)
        {
            Publish(history, $"m{i}", i * 1_000);
        }

        history.Reconfigure(2, TimeSpan.FromSeconds(3));
        Assert.Equal(2, history.Capacity);
        AssertReplays(history, 4, 6_000, ["5:m5", "6:m6"]);
        AssertReplays(history, 5, 8_000, ["6:m6"]); // m5 expired at 5000 + 3s
        history.Reconfigure(5, Ttl);
        Publish(history, "m7", 8_000);
        AssertReplays(history, 5, 8_000, ["6:m6", "7:m7"]);
    }

    [Fact]
    public void Replay_allocates_nothing()
    {
        var history = new RoomHistory("e-1", 10, Ttl, 0);
        for (int i = 0; i < 10; i++)
        {
            Publish(history, "payload", 0);
        }

        var counter = new int[1];
        HistoryFrameVisitor<int[]> visit = static (c, frame) => c[0] += frame.Length;
        Assert.Equal(0, Allocations.Least(() => history.TryReplay(0, 0, counter, visit)));
    }
}
