using BenchmarkDotNet.Attributes;
using PresenceD.Server.Rooms;

namespace PresenceD.Benchmarks.Rooms;

/// <summary>Join/leave and fan-out iteration of one room holding <see cref="Members"/> members.</summary>
[MemoryDiagnoser]
public class RoomBenchmarks
{
    private const int Batch = 1_000;

    private RoomIndex<MemberSet<Member>, Member> _index = null!;
    private MemberSet<Member> _room = null!;
    private Member[] _churn = null!;

    [Params(10, 1_000, 100_000)]
    public int Members { get; set; }

    internal sealed class Member
    {
        public int Id;
    }

    [GlobalSetup]
    public void Setup()
    {
        _index = new RoomIndex<MemberSet<Member>, Member>(name => new MemberSet<Member>(name));
        for (int i = 0; i < Members; i++)
        {
            _room = _index.Join("bench-room", new Member { Id = i }, out _, out _);
        }

        _churn = new Member[Batch];
        for (int i = 0; i < Batch; i++)
        {
            _churn[i] = new Member { Id = -i };
        }
    }

    /// <summary>One member joins by name (index lookup included) and leaves again.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void JoinLeavePair()
    {
        RoomIndex<MemberSet<Member>, Member> index = _index;
        Member[] churn = _churn;
        for (int i = 0; i < churn.Length; i++)
        {
            MemberSet<Member> room = index.Join("bench-room", churn[i], out int slot, out _);
            index.Leave(room, slot);
        }
    }

    /// <summary>Visiting every member once, as a fan-out does.</summary>
    [Benchmark]
    public long IterateAll()
    {
        long sum = 0;
        foreach (Member member in _room.Members)
        {
            sum += member.Id;
        }

        return sum;
    }
}
