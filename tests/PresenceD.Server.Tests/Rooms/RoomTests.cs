using PresenceD.Server.Rooms;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Rooms;

public sealed class RoomTests
{
    private sealed class Member(int id)
    {
        public int Id { get; } = id;
    }

    private static List<int> Ids(MemberSet<Member> room)
    {
        var ids = new List<int>();
        foreach (Member member in room.Members)
        {
            ids.Add(member.Id);
        }

        ids.Sort();
        return ids;
    }

    [Fact]
    public void Add_enumerate_and_remove()
    {
        var room = new MemberSet<Member>("lobby");
        Assert.True(room.TryAdd(new Member(1), out int a));
        Assert.True(room.TryAdd(new Member(2), out int b));
        Assert.True(room.TryAdd(new Member(3), out _));
        Assert.Equal(3, room.Count);
        Assert.Equal([1, 2, 3], Ids(room));

        room.Remove(b);
        Assert.Equal(2, room.Count);
        Assert.Equal([1, 3], Ids(room));

        room.Remove(a);
        Assert.Equal([3], Ids(room));
        Assert.Throws<InvalidOperationException>(() => room.Remove(a));
        Assert.Throws<InvalidOperationException>(() => room.Remove(999));
    }

    [Fact]
    public void Slots_stay_valid_across_growth_and_compaction()
    {
        var room = new MemberSet<Member>("big");
        var slots = new Dictionary<int, int>();
        for (int i = 0; i < 10_000; i++)
        {
            Assert.True(room.TryAdd(new Member(i), out int slot));
            slots[i] = slot;
        }

        // Remove 99% (forces compactions), keeping every hundredth member.
        for (int i = 0; i < 10_000; i++)
        {
            if (i % 100 != 0)
            {
                room.Remove(slots[i]);
                slots.Remove(i);
            }
        }

        Assert.Equal(100, room.Count);
        Assert.Equal(slots.Keys.Order().ToList(), Ids(room));

        // The surviving members' original slots still remove exactly them.
        foreach ((int id, int slot) in slots.Take(50).ToList())
        {
            room.Remove(slot);
            slots.Remove(id);
        }

        Assert.Equal(slots.Keys.Order().ToList(), Ids(room));
        Assert.Equal(50, room.Count);
    }

    [Fact]
    public void Enumeration_allocates_nothing()
    {
        var room = new MemberSet<Member>("r");
        for (int i = 0; i < 1_000; i++)
        {
            room.TryAdd(new Member(i), out _);
        }

        long sum = 0;
        long allocated = Allocations.Least(() =>
        {
            sum = 0;
            foreach (Member m in room.Members)
            {
                sum += m.Id;
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(499_500, sum);
    }

    [Fact]
    public void Steady_state_join_and_leave_allocate_nothing()
    {
        var room = new MemberSet<Member>("r");
        var members = Enumerable.Range(0, 1_000).Select(i => new Member(i)).ToArray();
        var slots = new int[members.Length];
        for (int i = 0; i < members.Length; i++)
        {
            room.TryAdd(members[i], out slots[i]);
        }

        long allocated = Allocations.Least(() =>
        {
            for (int round = 0; round < 10_000; round++)
            {
                int i = round % members.Length;
                room.Remove(slots[i]);
                room.TryAdd(members[i], out slots[i]);
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(1_000, room.Count);
    }

    [Fact]
    public async Task A_reader_always_sees_every_stable_member_exactly_once()
    {
        var room = new MemberSet<Member>("busy");
        var stable = Enumerable.Range(0, 50).Select(i => new Member(i)).ToArray();
        foreach (Member m in stable)
        {
            room.TryAdd(m, out _);
        }

        const int churners = 2;
        const int rounds = 200_000;
        int finished = 0;
        var writers = Enumerable.Range(0, churners).Select(w => Task.Run(() =>
        {
            var random = new Random(w);
            var mine = new List<int>();
            for (int round = 0; round < rounds; round++)
            {
                // Swing between a few and thousands of members so growth and compaction both happen.
                bool grow = (round / 5_000) % 2 == 0;
                if (mine.Count > 0 && (!grow || random.Next(4) == 0))
                {
                    int index = random.Next(mine.Count);
                    room.Remove(mine[index]);
                    mine[index] = mine[^1];
                    mine.RemoveAt(mine.Count - 1);
                }
                else
                {
                    room.TryAdd(new Member(1_000_000 + round), out int slot);
                    mine.Add(slot);
                }
            }

            foreach (int slot in mine)
            {
                room.Remove(slot);
            }

            Interlocked.Increment(ref finished);
        })).ToArray();

        var seen = new int[stable.Length];
        int passes = 0;
        while (Volatile.Read(ref finished) < churners || passes < 10)
        {
            Array.Clear(seen);
            foreach (Member m in room.Members)
            {
                if (m.Id < stable.Length)
                {
                    seen[m.Id]++;
                }
            }

            Assert.All(seen, count => Assert.Equal(1, count));
            passes++;
        }

        await Task.WhenAll(writers);
        Assert.Equal(stable.Length, room.Count);
        Assert.Equal(Enumerable.Range(0, stable.Length).ToList(), Ids(room));
    }
}
