namespace PresenceD.Server.Tests.Support;

/// <summary>Waits for a condition to hold (polling), failing with what was awaited; never a fixed sleep.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, string awaited)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) throw new Xunit.Sdk.XunitException($"timed out after {timeout} waiting for: {awaited}");
            await Task.Delay(10);
        }
    }
}
