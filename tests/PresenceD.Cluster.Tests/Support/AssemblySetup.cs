using System.Runtime.CompilerServices;

// The tests start real processes and measure leave timing: running them one at a time on a small
// machine keeps those timings about the cluster, not about the test runner.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace PresenceD.Cluster.Tests.Support;

internal static class AssemblySetup
{
    [ModuleInitializer]
    internal static void Initialize() => ThreadPool.SetMinThreads(32, 32);
}
