using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace PresenceD.Server.Buffers;

/// <summary>
/// Debug builds only (the calls compile away in release): each rented buffer is tagged with the stack that
/// rented it, and one the GC collects while still rented (its owner never gave it back) is reported with
/// that stack, so a leak names its owner.
/// </summary>
internal static class LeakTracker
{
    // A tag lives as long as its buffer; when a rented buffer dies, its tag is finalized and reports.
    private static readonly ConditionalWeakTable<object, Tag> Rented = new();
    private static long _leaks;

    /// <summary>Buffers collected while rented (debug builds).</summary>
    public static long Leaks => Interlocked.Read(ref _leaks);

    [Conditional("DEBUG")]
    public static void Rent(object buffer, int length) => Rented.AddOrUpdate(buffer, new Tag(length, new StackTrace(2, fNeedFileInfo: false)));

    [Conditional("DEBUG")]
    public static void Return(object buffer)
    {
        if (!Rented.TryGetValue(buffer, out Tag? tag)) return;
        Rented.Remove(buffer);
        GC.SuppressFinalize(tag);
    }

    private sealed class Tag(int length, StackTrace rentedAt)
    {
        ~Tag()
        {
            Interlocked.Increment(ref _leaks);
            Console.Error.WriteLine($"presenced: a pooled {length}-byte buffer was never returned; rented at:\n{rentedAt}");
        }
    }
}
