using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using PresenceD.Server.Buffers;
using PresenceD.Server.Expiry;

namespace PresenceD.Server.Tests.Buffers;

public sealed class BufferPoolsTests
{
    private const int KiB = 1024;
    private const int MiB = 1024 * 1024;

    private readonly FakeClock _clock = new(1_000);

    [Fact]
    public void Send_arrays_and_receive_blocks_share_one_budget()
    {
        using TimerWheel wheel = Wheel();
        using var pools = new BufferPools(12 * KiB, TimeSpan.FromSeconds(1), wheel);
        IMemoryOwner<byte>[] blocks = [pools.Receive.Rent(), pools.Receive.Rent(), pools.Receive.Rent()];

        pools.Send.Return(pools.Send.Rent(4 * KiB));
        foreach (IMemoryOwner<byte> block in blocks) block.Dispose();

        Assert.Equal(4 * KiB, pools.Send.RetainedBytes);
        Assert.Equal(8 * KiB, pools.Receive.RetainedBytes);
        Assert.Equal(12 * KiB, pools.Budget.RetainedBytes);
        Assert.Equal(4 * KiB, pools.Budget.OverflowBytes);
        Assert.Same(blocks[1], pools.Receive.Rent());
    }

    [Fact]
    public void A_burst_is_released_by_the_second_trim_after_it_on_the_wheel()
    {
        using TimerWheel wheel = Wheel();
        using var pools = new BufferPools(64 * MiB, TimeSpan.FromSeconds(1), wheel);
        byte[][] burst = Enumerable.Range(0, 40).Select(_ => pools.Send.Rent(64 * KiB)).ToArray();
        IMemoryOwner<byte>[] blocks = Enumerable.Range(0, 40).Select(_ => pools.Receive.Rent()).ToArray();
        foreach (byte[] array in burst) pools.Send.Return(array);
        foreach (IMemoryOwner<byte> block in blocks) block.Dispose();

        AdvanceWheel(wheel, 1_000);
        long afterFirst = pools.Budget.RetainedBytes;
        AdvanceWheel(wheel, 1_000);

        Assert.Equal(40 * 64 * KiB + 40 * 4 * KiB, afterFirst);
        Assert.Equal(0, pools.Budget.RetainedBytes);
        Assert.Equal(1, pools.Trims);
        Assert.Equal(afterFirst, pools.TrimmedBytes);
        Assert.Equal(1, wheel.Count); // the trim timer re-armed itself
    }

    [Fact]
    public void Buffers_in_use_every_interval_stay()
    {
        using TimerWheel wheel = Wheel();
        using var pools = new BufferPools(64 * MiB, TimeSpan.FromSeconds(1), wheel);

        for (int interval = 0; interval < 5; interval++)
        {
            pools.Send.Return(pools.Send.Rent(8 * KiB));
            pools.Receive.Rent().Dispose();
            AdvanceWheel(wheel, 1_000);
        }

        Assert.Equal(8 * KiB + 4 * KiB, pools.Budget.RetainedBytes);
        Assert.Equal(0, pools.Trims);
    }

    [Fact]
    public void Reconfigure_lowers_the_cap_at_once_and_moves_or_stops_the_trim_timer()
    {
        using TimerWheel wheel = Wheel();
        using var pools = new BufferPools(64 * MiB, TimeSpan.FromSeconds(10), wheel);
        byte[][] arrays = [pools.Send.Rent(MiB), pools.Send.Rent(4 * KiB)];
        foreach (byte[] array in arrays) pools.Send.Return(array);

        pools.Configure(64 * KiB, TimeSpan.FromSeconds(1));
        long retained = pools.Budget.RetainedBytes;
        long due = wheel.Count;
        AdvanceWheel(wheel, 1_000);
        pools.Configure(64 * KiB, TimeSpan.Zero);

        Assert.Equal(4 * KiB, retained);
        Assert.Equal(MiB, pools.Budget.OverflowBytes);
        Assert.Equal(1, due);
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void A_returned_pipe_gives_its_blocks_back_and_is_reused()
    {
        using TimerWheel wheel = Wheel();
        using var pools = new BufferPools(MiB, TimeSpan.FromSeconds(1), wheel);
        Pipe pipe = pools.RentPipe();
        pipe.Writer.GetMemory(1);
        pipe.Writer.Advance(BlockMemoryPool.BlockSize);
        pipe.Writer.GetMemory(1);
        pipe.Writer.Advance(1);

        pools.ReturnPipe(pipe);

        Assert.Equal(2 * BlockMemoryPool.BlockSize, pools.Receive.RetainedBytes);
        Assert.Same(pipe, pools.RentPipe());
    }

    [Fact]
    public void Dispose_stops_the_trim_timer_and_lets_everything_go()
    {
        using TimerWheel wheel = Wheel();
        var pools = new BufferPools(MiB, TimeSpan.FromSeconds(1), wheel);
        pools.Send.Return(pools.Send.Rent(64 * KiB));
        pools.Send.Return(pools.Send.Rent(4 * KiB));
        pools.Receive.Rent().Dispose();

        pools.Dispose();

        Assert.Equal(0, pools.Send.RetainedBytes);
        Assert.Equal(0, pools.Receive.RetainedBytes);
        Assert.Equal(0, pools.Budget.RetainedBytes);
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public async Task Concurrent_rents_returns_and_idle_trims_never_share_a_buffer_and_keep_the_books_straight()
    {
        using TimerWheel wheel = Wheel();
        using var pools = new BufferPools(256 * KiB, TimeSpan.Zero, wheel);
        var inUse = new ConcurrentDictionary<object, byte>(ReferenceEqualityComparer.Instance);
        int[] sizes = [1, 4 * KiB, 5 * KiB, 16 * KiB, 100 * KiB];
        using var stop = new CancellationTokenSource();

        Task[] workers = Enumerable.Range(0, 4).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            var held = new List<byte[]>();
            var blocks = new List<IMemoryOwner<byte>>();
            for (int i = 0; i < 20_000; i++)
            {
                byte[] array = pools.Send.Rent(sizes[random.Next(sizes.Length)]);
                IMemoryOwner<byte> block = pools.Receive.Rent();
                Assert.True(inUse.TryAdd(array, 0), "an array was rented twice at once");
                Assert.True(inUse.TryAdd(block, 0), "a block was rented twice at once");
                held.Add(array);
                blocks.Add(block);
                if (held.Count < 8) continue;
                foreach (byte[] done in held)
                {
                    inUse.TryRemove(done, out _);
                    pools.Send.Return(done);
                }
                foreach (IMemoryOwner<byte> done in blocks)
                {
                    inUse.TryRemove(done, out _);
                    done.Dispose();
                }
                held.Clear();
                blocks.Clear();
            }
        })).ToArray();
        // The pools' own trims (Trim adds a collection policy that runs on one thread only).
        Task trimmer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                pools.Send.TrimIdle();
                pools.Receive.TrimIdle();
            }
        });
        await Task.WhenAll(workers);
        await stop.CancelAsync();
        await trimmer;

        Assert.Equal(pools.Send.RetainedBytes + pools.Receive.RetainedBytes, pools.Budget.RetainedBytes);
        Assert.InRange(pools.Budget.RetainedBytes, 0, 256 * KiB);
    }

    private TimerWheel Wheel() => new(_clock, TimeSpan.FromMilliseconds(10));

    private void AdvanceWheel(TimerWheel wheel, long ms)
    {
        _clock.AdvanceBy(ms);
        wheel.Advance();
    }
}
