using PresenceD.Server.Buffers;

namespace PresenceD.Server.Tests.Buffers;

public sealed class SendBufferPoolTests
{
    private const int KiB = 1024;
    private const int MiB = 1024 * 1024;

    [Theory]
    [InlineData(1, 4 * KiB)]
    [InlineData(4 * KiB, 4 * KiB)]
    [InlineData(4 * KiB + 1, 8 * KiB)]
    [InlineData(MiB - 1, MiB)]
    [InlineData(64 * MiB, 64 * MiB)]
    public void Rents_the_power_of_two_class_that_fits(int asked, int expected)
    {
        var pool = new SendBufferPool(new PoolBudget(0));

        Assert.Equal(expected, pool.Rent(asked).Length);
    }

    [Fact]
    public void A_returned_array_is_rented_again()
    {
        var pool = new SendBufferPool(new PoolBudget(MiB));
        byte[] first = pool.Rent(10 * KiB);

        pool.Return(first);

        Assert.Equal(16 * KiB, pool.RetainedBytes);
        Assert.Same(first, pool.Rent(9 * KiB));
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void Returns_past_the_budget_are_let_go_and_counted()
    {
        var budget = new PoolBudget(64 * KiB);
        var pool = new SendBufferPool(budget);
        byte[][] arrays = [pool.Rent(32 * KiB), pool.Rent(32 * KiB), pool.Rent(32 * KiB)];

        foreach (byte[] array in arrays) pool.Return(array);

        Assert.Equal(64 * KiB, pool.RetainedBytes);
        Assert.Equal(64 * KiB, budget.RetainedBytes);
        Assert.Equal(32 * KiB, budget.OverflowBytes);
        Assert.Same(arrays[1], pool.Rent(32 * KiB));
        Assert.Same(arrays[0], pool.Rent(32 * KiB));
        Assert.NotSame(arrays[2], pool.Rent(32 * KiB));
    }

    [Fact]
    public void Arrays_outside_the_classes_are_never_kept()
    {
        var pool = new SendBufferPool(new PoolBudget(long.MaxValue));
        byte[] huge = pool.Rent(64 * MiB + 1);

        pool.Return(huge);
        pool.Return(new byte[5000]);
        pool.Return(new byte[1024]);

        Assert.Equal(64 * MiB + 1, huge.Length);
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void A_trim_lets_go_only_of_what_was_not_rented_since_the_previous_trim()
    {
        var pool = new SendBufferPool(new PoolBudget(MiB));
        byte[][] arrays = [pool.Rent(4 * KiB), pool.Rent(4 * KiB), pool.Rent(4 * KiB), pool.Rent(64 * KiB)];
        foreach (byte[] array in arrays) pool.Return(array);

        long first = pool.TrimIdle(); // the window in which they were returned: all were in use in it
        pool.Return(pool.Rent(4 * KiB)); // one 4 KiB array is used in the next window
        long second = pool.TrimIdle();
        long third = pool.TrimIdle();

        Assert.Equal(0, first);
        Assert.Equal(2 * 4 * KiB + 64 * KiB, second);
        Assert.Equal(4 * KiB, third);
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void Drop_lets_go_of_the_largest_arrays_first()
    {
        var pool = new SendBufferPool(new PoolBudget(MiB));
        byte[][] arrays = [pool.Rent(4 * KiB), pool.Rent(4 * KiB), pool.Rent(256 * KiB)];
        foreach (byte[] array in arrays) pool.Return(array);

        long dropped = pool.Drop(100 * KiB);

        Assert.Equal(256 * KiB, dropped);
        Assert.Equal(8 * KiB, pool.RetainedBytes);
    }

    [Fact]
    public void In_debug_builds_a_buffer_collected_while_rented_is_reported()
    {
        var pool = new SendBufferPool(new PoolBudget(MiB));
        long before = LeakTracker.Leaks;

        RentAndForget(pool);
        GC.Collect();
        GC.WaitForPendingFinalizers();

#if DEBUG
        Assert.True(LeakTracker.Leaks > before);
#else
        Assert.Equal(before, LeakTracker.Leaks); // the tags compile away
#endif
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void RentAndForget(SendBufferPool pool) => pool.Rent(4 * KiB);
}
