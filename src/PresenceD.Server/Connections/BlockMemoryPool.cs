using System.Buffers;
using System.Collections.Concurrent;

namespace PresenceD.Server.Connections;

/// <summary>
/// Fixed-size blocks for the receive pipes, kept in a queue and reused with their owner objects, so a
/// read does not allocate (MemoryPool&lt;byte&gt;.Shared allocates an owner per rent). Blocks are pinned
/// arrays from the pinned object heap so the GC never moves a buffer the socket is reading into.
/// Larger requests (rare: the pipe asks for at most one block) get a one-off array.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _blocks = new();

    public static BlockMemoryPool Blocks { get; } = new();

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize) return new Block(null, minBufferSize);
        return _blocks.TryDequeue(out Block? block) ? block : new Block(this, BlockSize);
    }

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

        public void Dispose() => _pool?._blocks.Enqueue(this);
    }
}
