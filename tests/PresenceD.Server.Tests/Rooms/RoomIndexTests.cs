using System.Collections.Concurrent;
using PresenceD.Server.Rooms;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Rooms;

public sealed class RoomIndexTests
{
    private sealed class Member(int id)
    {
        public int Id { get; } = id;
    }

    [Fact]
    public void Join_creates_and_reuses_rooms_and_the_last_leave_removes_the_room()
    {
        var index = new RoomIndex<MemberSet<Member>, Member>(name => new MemberSet<Member>(name));
        MemberSet<Member> a = index.Join("lobby", new Member(1), out int slotA, out _);
        MemberSet<Member> b = index.Join("lobby", new Member(2), out int slotB, out _);
        Assert.Same(a, b);
        Assert.Equal(2, a.Count);
        Assert.Equal(1, index.Count);
        Assert.Same(a, index.Find("lobby"));
        Assert.Same(a, index.Find("xlobbyx".AsSpan(1, 5)));
        Assert.Null(index.Find("other"));
        Assert.Null(index.Find("lob".AsSpan()));

        Assert.False(index.Leave(a, slotA));
        Assert.True(index.Leave(a, slotB));
        Assert.True(a.IsRetired);
        Assert.Equal(0, index.Count);
        Assert.Null(index.Find("lobby"));
        Assert.Empty(index.Rooms);

        MemberSet<Member> fresh = index.Join("lobby", new Member(3), out _, out _);
        Assert.NotSame(a, fresh);
        Assert.False(a.TryAdd(new Member(4), out _));
    }

    [Fact]
    public void Rooms_lists_every_room()
    {
        var index = new RoomIndex<MemberSet<Member>, Member>(name => new MemberSet<Member>(name));
        for (int i = 0; i < 20; i++)
        {
            index.Join($"room-{i % 5}", new Member(i), out _, out _);
        }

        Assert.Equal(5, index.Count);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"room-{i}").ToList(), index.Rooms.Select(r => r.Name).Order().ToList());
        Assert.All(index.Rooms, r => Assert.Equal(4, r.Count));
    }

    [Fact]
    public void Span_lookup_allocates_nothing()
    {
        var index = new RoomIndex<MemberSet<Member>, Member>(name => new MemberSet<Member>(name));
        index.Join("some-room", new Member(1), out _, out _);
        char[] buffer = "xxsome-roomyy".ToCharArray();
        Assert.NotNull(index.Find(buffer.AsSpan(2, 9)));

        MemberSet<Member>? found = null;
        Assert.Equal(0, Allocations.Least(() => found = index.Find(buffer.AsSpan(2, 9))));
        Assert.NotNull(found);
    }

    [Fact]
    public void Concurrent_joins_and_leaves_match_a_model()
    {
        var index = new RoomIndex<MemberSet<Member>, Member>(name => new MemberSet<Member>(name));
        const int threads = 4;
        const int operationsPerThread = 150_000;
        const int roomNames = 16; // few rooms, so empty-and-recreate races are frequent
        var finalMembership = new ConcurrentDictionary<Member, string>();
        int enumerations = 0;

        Parallel.For(0, threads + 1, new ParallelOptions { MaxDegreeOfParallelism = threads + 1 }, t =>
        {
            if (t == threads)
            {
                // A reader sweeping all rooms while they churn: must never throw or see a null.
                for (int pass = 0; pass < 2_000; pass++)
                {
                    foreach (MemberSet<Member> room in index.Rooms)
                    {
                        foreach (Member m in room.Members)
                        {
                            Assert.NotNull(m);
                        }
                    }

                    Interlocked.Increment(ref enumerations);
                }

                return;
            }

            var random = new Random(t);
            var held = new List<(Member Member, MemberSet<Member> Room, int Slot)>();
            for (int op = 0; op < operationsPerThread; op++)
            {
                if (held.Count > 0 && random.Next(2) == 0)
                {
                    int i = random.Next(held.Count);
                    (_, MemberSet<Member> room, int slot) = held[i];
                    index.Leave(room, slot);
                    held[i] = held[^1];
                    held.RemoveAt(held.Count - 1);
                }
                else if (held.Count < 8)
                {
                    string name = $"room-{random.Next(roomNames)}";
                    var member = new Member((t * operationsPerThread) + op);
                    MemberSet<Member> room = index.Join(name, member, out int slot, out _);
                    Assert.Equal(name, room.Name);
                    held.Add((member, room, slot));
                }
            }

            foreach ((Member member, MemberSet<Member> room, _) in held)
            {
                finalMembership[member] = room.Name;
            }
        });

        var expected = finalMembership.GroupBy(p => p.Value).ToDictionary(g => g.Key, g => g.Select(p => p.Key.Id).Order().ToList());
        Assert.Equal(expected.Count, index.Count);
        Assert.Equal(expected.Count, index.Rooms.Count());
        foreach (MemberSet<Member> room in index.Rooms)
        {
            Assert.False(room.IsRetired);
            Assert.True(expected.TryGetValue(room.Name, out List<int>? ids), $"ghost room {room.Name}");
            var actual = new List<int>();
            foreach (Member m in room.Members)
            {
                actual.Add(m.Id);
            }

            actual.Sort();
            Assert.Equal(ids, actual);
            Assert.Equal(ids!.Count, room.Count);
            Assert.Same(room, index.Find(room.Name));
        }

        Assert.True(enumerations > 0);
    }
}
