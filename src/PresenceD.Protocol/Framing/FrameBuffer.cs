using System;
using System.Buffers;
using System.Buffers.Binary;

namespace PresenceD.Protocol.Framing;

/// <summary>
/// A growable, pooled, contiguous byte buffer that frames are encoded into: <see cref="BeginFrame"/>
/// reserves the length prefix, the body is written through <see cref="IBufferWriter{T}"/>, and
/// <see cref="EndFrame"/> patches the length. Several frames can be written back to back and sent with
/// one call. The array is rented on first write and returned by <see cref="Release"/>, so an idle owner
/// holds no memory. Not thread-safe.
/// </summary>
public sealed class FrameBuffer : IBufferWriter<byte>, IDisposable
{
    private readonly ArrayPool<byte> _pool;
    private readonly int _initialSize;
    private byte[]? _buffer;
    private int _written;

    /// <summary>Creates an empty buffer that rents from <paramref name="pool"/> (the shared pool by default).</summary>
    public FrameBuffer(int initialSize = 4096, ArrayPool<byte>? pool = null)
    {
        _initialSize = initialSize;
        _pool = pool ?? ArrayPool<byte>.Shared;
    }

    /// <summary>Bytes written (whole frames, unless a frame is in progress).</summary>
    public int WrittenCount => _written;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer is null ? default : _buffer.AsSpan(0, _written);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer is null ? default : _buffer.AsMemory(0, _written);

    /// <summary>The backing array and count (for socket sends that want an ArraySegment).</summary>
    public ArraySegment<byte> WrittenSegment => _buffer is null ? default : new ArraySegment<byte>(_buffer, 0, _written);

    /// <summary>Size of the rented array (0 when none is held).</summary>
    public int Capacity => _buffer?.Length ?? 0;

    /// <summary>Reserves a length prefix and returns the position to pass to <see cref="EndFrame"/>.</summary>
    public int BeginFrame()
    {
        int start = _written;
        GetSpan(ProtocolConstants.LengthPrefixSize);
        _written += ProtocolConstants.LengthPrefixSize;
        return start;
    }

    /// <summary>Writes the body length of the frame begun at <paramref name="start"/>.</summary>
    public void EndFrame(int start)
    {
        int bodyLength = _written - start - ProtocolConstants.LengthPrefixSize;
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(start), (uint)bodyLength);
    }

    /// <summary>Abandons a frame begun at <paramref name="start"/> (e.g. encoding failed halfway).</summary>
    public void Truncate(int start) => _written = start;

    /// <summary>Appends bytes as they are (e.g. a frame encoded elsewhere).</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _written += bytes.Length;
    }

    /// <summary>Forgets the content but keeps the array.</summary>
    public void Clear() => _written = 0;

    /// <summary>Forgets the content and returns the array to the pool.</summary>
    public void Release()
    {
        _written = 0;
        byte[]? buffer = _buffer;
        _buffer = null;
        if (buffer is not null) _pool.Return(buffer);
    }

    /// <inheritdoc />
    public void Advance(int count)
    {
        if (count < 0 || _buffer is null || _written + count > _buffer.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _written += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Returns the array to the pool.</summary>
    public void Dispose() => Release();

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1) sizeHint = 1;
        if (_buffer is null)
        {
            _buffer = _pool.Rent(Math.Max(sizeHint, _initialSize));
            return;
        }
        if (_buffer.Length - _written >= sizeHint) return;
        long needed = (long)_written + sizeHint;
        int size = (int)Math.Min(Math.Max(needed, (long)_buffer.Length * 2), int.MaxValue);
        byte[] grown = _pool.Rent(size);
        _buffer.AsSpan(0, _written).CopyTo(grown);
        _pool.Return(_buffer);
        _buffer = grown;
    }
}
