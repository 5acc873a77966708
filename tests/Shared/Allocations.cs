namespace PresenceD.Tests.Shared;

/// <summary>
/// Bytes an action allocates on the calling thread, for the zero-allocation tests.
/// </summary>
/// <remarks>
/// The least of several runs after one warm-up run: a tier-1 recompile or an on-stack replacement
/// that lands during a run can allocate on the measuring thread on a loaded machine (one CI run
/// failed so), while an allocation in the code under test shows in every run. So a zero stays a
/// zero only when the code allocates nothing.
/// </remarks>
public static class Allocations
{
    public static long Least(Action action, int runs = 5)
    {
        action();
        long least = long.MaxValue;
        for (int run = 0; run < runs && least > 0; run++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
