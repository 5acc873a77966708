using System.Buffers;

namespace PresenceD.Server.Buffers;

/// <summary>
/// Fixed-size blocks for the receive pipes, reused with their owner objects, so a read does not allocate
/// (MemoryPool&lt;byte&gt;.Shared allocates an owner per rent). Blocks are pinned arrays from the pinned object
/// heap so the GC never moves a buffer the socket is reading into. The free blocks are one
/// <see cref="PoolStack{T}"/> charged to the server's <see cref="PoolBudget"/>: a block returned past the
/// budget is left to the GC. Larger requests (rare: the pipe asks for at most one block) get a one-off array.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    private readonly PoolStack<Block> _blocks;
    private long _allocatedBytes;

    public BlockMemoryPool(PoolBudget budget) => _blocks = new PoolStack<Block>(budget, BlockSize);

    public override int MaxBufferSize => BlockSize;

    /// <summary>Bytes held for reuse.</summary>
    public long RetainedBytes => _blocks.RetainedBytes;

    /// <summary>Bytes of the blocks rented when the pool had none to give (cumulative).</summary>
    public long AllocatedBytes => Volatile.Read(ref _allocatedBytes);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize) return new Block(null, minBufferSize);
        Block? block = _blocks.TryPop();
        if (block is null)
        {
            Interlocked.Add(ref _allocatedBytes, BlockSize);
            block = new Block(this, BlockSize);
        }
        LeakTracker.Rent(block, BlockSize);
        return block;
    }

    /// <summary>Lets go of the blocks not rented since the last trim; returns their bytes.</summary>
    public long TrimIdle() => (long)_blocks.TrimIdle() * BlockSize;

    /// <summary>Lets go of blocks until <paramref name="bytes"/> are released or none is left; returns the bytes released.</summary>
    public long Drop(long bytes) => (long)_blocks.Drop(SendBufferPool.CountFor(bytes, BlockSize)) * BlockSize;

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly BlockMemoryPool? _pool;
        private readonly byte[] _array;

        public Block(BlockMemoryPool? pool, int size)
        {
            _pool = pool;
            _array = GC.AllocateUninitializedArray<byte>(size, pinned: pool is not null);
        }

        public Memory<byte> Memory => _array;

        public void Dispose()
        {
            if (_pool is null) return;
            LeakTracker.Return(this);
            _pool._blocks.TryPush(this);
        }
    }
}
