using System.Runtime.CompilerServices;

namespace PresenceD.Server.Tests.Support;

internal static class ThreadPoolSetup
{
    /// <summary>
    /// Server and clients share this test process, and the test runner blocks pool threads while it
    /// waits; with the default minimum (one thread per core) timers then fire late and heartbeats
    /// time out for the wrong reason. More threads up front keep the timing the tests mean.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => ThreadPool.SetMinThreads(64, 64);
}
