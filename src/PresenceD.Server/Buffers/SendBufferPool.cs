using System.Buffers;
using System.Numerics;

namespace PresenceD.Server.Buffers;

/// <summary>
/// The arrays of the outbound queues (a FrameBuffer rents one, doubles it as frames pile up, and returns it
/// when the queue drains): power-of-two size classes from 4 KiB to 64 MiB, each a <see cref="PoolStack{T}"/>
/// charged to the server's <see cref="PoolBudget"/>. A larger request gets an array that is never pooled.
/// </summary>
internal sealed class SendBufferPool : ArrayPool<byte>
{
    public const int MinArrayLength = 4096; // a FrameBuffer's first rent
    public const int MaxArrayLength = 64 * 1024 * 1024;

    private const int MinShift = 12;
    private const int ClassCount = 15; // 4 KiB << 14 = 64 MiB

    private readonly PoolStack<byte[]>[] _classes = new PoolStack<byte[]>[ClassCount];
    private long _allocatedBytes;

    public SendBufferPool(PoolBudget budget)
    {
        for (int i = 0; i < ClassCount; i++) _classes[i] = new PoolStack<byte[]>(budget, MinArrayLength << i);
    }

    /// <summary>Bytes held for reuse.</summary>
    public long RetainedBytes
    {
        get
        {
            long total = 0;
            foreach (PoolStack<byte[]> size in _classes) total += size.RetainedBytes;
            return total;
        }
    }

    /// <summary>Bytes of the arrays rented when the pool had none to give (cumulative).</summary>
    public long AllocatedBytes => Volatile.Read(ref _allocatedBytes);

    public override byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        if (minimumLength == 0) return [];
        byte[] array;
        if (minimumLength > MaxArrayLength)
        {
            array = Allocate(minimumLength);
        }
        else
        {
            int index = ClassOf(minimumLength);
            array = _classes[index].TryPop() ?? Allocate(MinArrayLength << index);
        }
        LeakTracker.Rent(array, array.Length);
        return array;
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        ArgumentNullException.ThrowIfNull(array);
        LeakTracker.Return(array);
        int length = array.Length;
        if (length < MinArrayLength || length > MaxArrayLength || !BitOperations.IsPow2(length)) return; // not one of ours
        if (clearArray) Array.Clear(array);
        _classes[ClassOf(length)].TryPush(array);
    }

    /// <summary>Lets go of the arrays not rented since the last trim; returns their bytes.</summary>
    public long TrimIdle()
    {
        long released = 0;
        for (int i = 0; i < ClassCount; i++) released += (long)_classes[i].TrimIdle() * (MinArrayLength << i);
        return released;
    }

    /// <summary>Lets go of arrays, largest first, until <paramref name="bytes"/> are released or none is left; returns the bytes released.</summary>
    public long Drop(long bytes)
    {
        long dropped = 0;
        for (int i = ClassCount - 1; i >= 0 && dropped < bytes; i--)
        {
            long size = MinArrayLength << i;
            dropped += _classes[i].Drop(CountFor(bytes - dropped, size)) * size;
        }
        return dropped;
    }

    private byte[] Allocate(int length)
    {
        Interlocked.Add(ref _allocatedBytes, length);
        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>How many items of <paramref name="size"/> bytes make at least <paramref name="bytes"/> (capped, never overflowing).</summary>
    internal static int CountFor(long bytes, long size) => (int)Math.Min(int.MaxValue, bytes / size + (bytes % size == 0 ? 0 : 1));

    private static int ClassOf(int length) => length <= MinArrayLength ? 0 : BitOperations.Log2((uint)length - 1) + 1 - MinShift;
}
