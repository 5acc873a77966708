using System.Buffers;
using BenchmarkDotNet.Attributes;
using PresenceD.Server.Buffers;
using PresenceD.Server.Expiry;

namespace PresenceD.Benchmarks.Buffers;

/// <summary>
/// Rent and return of the pools a connection uses once per burst of output or input: an outbound queue's
/// first array and its doubling, and a receive block. The pool found warm, as between two bursts.
/// Target: 0 B allocated; ArrayPool.Create (the pool before buffer_pool_max) for comparison.
/// </summary>
[MemoryDiagnoser]
public class BufferPoolBenchmarks
{
    private readonly ArrayPool<byte> _unbounded = ArrayPool<byte>.Create(maxArrayLength: 64 * 1024 * 1024, maxArraysPerBucket: 4096);
    private TimerWheel _wheel = null!;
    private BufferPools _pools = null!;

    [GlobalSetup]
    public void Setup()
    {
        _wheel = new TimerWheel(new ManualClock(), TimeSpan.FromMilliseconds(100));
        _pools = new BufferPools(64 * 1024 * 1024, TimeSpan.FromSeconds(10), _wheel);
        SendCycle();
        ReceiveCycle();
        UnboundedCycle();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pools.Dispose();
        _wheel.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ArrayPool.Create: 4 KiB, grow to 8 KiB, return")]
    public int UnboundedCycle() => Cycle(_unbounded);

    [Benchmark(Description = "send pool: 4 KiB, grow to 8 KiB, return")]
    public int SendCycle() => Cycle(_pools.Send);

    [Benchmark(Description = "receive pool: rent and return a block")]
    public int ReceiveCycle()
    {
        IMemoryOwner<byte> block = _pools.Receive.Rent();
        int length = block.Memory.Length;
        block.Dispose();
        return length;
    }

    private static int Cycle(ArrayPool<byte> pool)
    {
        byte[] first = pool.Rent(4096);
        byte[] grown = pool.Rent(8192);
        pool.Return(first);
        pool.Return(grown);
        return first.Length + grown.Length;
    }
}
