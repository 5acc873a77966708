using System.Diagnostics;

namespace PresenceD.Tests.Shared;

/// <summary>
/// The one way a test waits for something that happens in its own time (a frame, a log line, a port, a
/// process, a metric): polls until the condition holds, and on timeout fails naming what it waited for.
/// A fixed sleep is no substitute: too short on a loaded machine, needlessly long on an idle one.
/// A probe that throws ends the wait at once with its exception (an assertion inside a probe fails fast).
/// </summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(100);

    /// <summary>Waits until <paramref name="condition"/> is true; <paramref name="awaited"/> says what that means.</summary>
    public static Task TrueAsync(Func<bool> condition, string awaited, TimeSpan? timeout = null, Func<string>? state = null) =>
        PollAsync(() => Task.FromResult((condition(), true)), awaited, timeout, state);

    /// <inheritdoc cref="TrueAsync(Func{bool}, string, TimeSpan?, Func{string}?)"/>
    public static Task TrueAsync(Func<Task<bool>> condition, string awaited, TimeSpan? timeout = null, Func<string>? state = null) =>
        PollAsync(async () => (await condition(), true), awaited, timeout, state);

    /// <summary>Waits until <paramref name="probe"/> finds something (returns non-null) and returns it.</summary>
    public static Task<T> ValueAsync<T>(Func<T?> probe, string awaited, TimeSpan? timeout = null, Func<string>? state = null) where T : class =>
        PollAsync(() => Task.FromResult(probe() is { } found ? (true, found) : (false, default(T)!)), awaited, timeout, state);

    /// <inheritdoc cref="ValueAsync{T}(Func{T}, string, TimeSpan?, Func{string}?)"/>
    public static Task<T> ValueAsync<T>(Func<Task<T?>> probe, string awaited, TimeSpan? timeout = null, Func<string>? state = null) where T : class =>
        PollAsync(async () => await probe() is { } found ? (true, found) : (false, default(T)!), awaited, timeout, state);

    private static async Task<T> PollAsync<T>(Func<Task<(bool Done, T Value)>> probe, string awaited, TimeSpan? timeout, Func<string>? state)
    {
        TimeSpan limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        TimeSpan poll = FirstPoll;
        while (true)
        {
            (bool done, T value) = await probe();
            if (done) return value;
            if (clock.Elapsed >= limit)
            {
                string detail = state is null ? "" : "\n" + state();
                throw new WaitTimeoutException($"timed out after {limit.TotalSeconds:0.###} s waiting for {awaited}{detail}");
            }
            await Task.Delay(poll);
            poll = poll * 2 < LongestPoll ? poll * 2 : LongestPoll;
        }
    }
}

/// <summary>A wait that ran out of time; the message says what was awaited.</summary>
internal sealed class WaitTimeoutException(string message) : Xunit.Sdk.XunitException(message);
