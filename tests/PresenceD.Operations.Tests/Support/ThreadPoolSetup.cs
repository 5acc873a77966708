using System.Runtime.CompilerServices;

namespace PresenceD.Operations.Tests.Support;

internal static class ThreadPoolSetup
{
    /// <summary>
    /// In-process daemons share this process with the test runner, which blocks pool threads while it
    /// waits; more threads up front keep the server's timers on time (as in the server tests).
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => ThreadPool.SetMinThreads(64, 64);
}
