using System.Runtime.CompilerServices;
using static PresenceD.Server.IoUring.IoUringNative;

namespace PresenceD.Server.IoUring;

/// <summary>
/// An io_uring that carries one batch of socket sends per system call: the caller prepares a send per socket
/// (<see cref="PrepareSend"/>), then <see cref="SubmitAndWait"/> hands them all to the kernel in one
/// io_uring_enter and collects every result. Each send is flagged MSG_DONTWAIT, so the kernel copies what fits
/// into the socket buffer during the call and answers -EAGAIN for a full socket instead of keeping the request
/// (and the caller's buffer) for later: when SubmitAndWait returns, the kernel holds no pointer into any buffer.
/// The buffers must still not move while the call runs (the caller pins them).
/// Not thread-safe: one thread at a time (a <see cref="Connections.SendScheduler"/> shard's work item) owns it.
/// </summary>
internal sealed unsafe class SendRing : IDisposable
{
    /// <summary>A result meaning the send was not tried (the ring failed): the caller sends the bytes another way.</summary>
    public const int NotSent = int.MinValue;

    private readonly int _ringFd;
    private readonly nint _ringMemory;
    private readonly nuint _ringLength;
    private readonly nint _sqeMemory;
    private readonly nuint _sqeLength;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint* _sqArray;
    private readonly Sqe* _sqes;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Cqe* _cqes;
    private uint _localTail;
    private int _prepared;
    private bool _disposed;

    private SendRing(int ringFd, in Params p, nint ringMemory, nuint ringLength, nint sqeMemory, nuint sqeLength)
    {
        _ringFd = ringFd;
        _ringMemory = ringMemory;
        _ringLength = ringLength;
        _sqeMemory = sqeMemory;
        _sqeLength = sqeLength;
        byte* ring = (byte*)ringMemory;
        _sqTail = (uint*)(ring + p.SqOff.Tail);
        _sqMask = *(uint*)(ring + p.SqOff.RingMask);
        _sqArray = (uint*)(ring + p.SqOff.Array);
        _sqes = (Sqe*)sqeMemory;
        _cqHead = (uint*)(ring + p.CqOff.Head);
        _cqTail = (uint*)(ring + p.CqOff.Tail);
        _cqMask = *(uint*)(ring + p.CqOff.RingMask);
        _cqes = (Cqe*)(ring + p.CqOff.Cqes);
        Capacity = (int)p.SqEntries;
        _localTail = *_sqTail;
    }

    /// <summary>Most sends one <see cref="SubmitAndWait"/> can carry.</summary>
    public int Capacity { get; }

    /// <summary>Sends prepared and not yet submitted.</summary>
    public int Prepared => _prepared;

    /// <summary>
    /// Creates a ring of <paramref name="entries"/> submission slots (a power of two), or null with the reason when the
    /// kernel has no io_uring or refuses it (containers often forbid it by seccomp, or kernel.io_uring_disabled).
    /// </summary>
    public static SendRing? TryCreate(uint entries, out string? error)
    {
        var p = new Params { Flags = SetupSubmitAll | SetupCoopTaskrun };
        int fd;
        int errno;
        try
        {
            fd = Setup(entries, ref p, out errno);
            if (fd < 0 && errno == 22) // EINVAL: a kernel older than 5.19 knows neither flag
            {
                p = default;
                fd = Setup(entries, ref p, out errno);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            error = $"libc has no syscall entry ({e.GetType().Name})";
            return null;
        }
        if (fd < 0)
        {
            error = $"io_uring_setup failed: errno {errno} ({ErrnoName(errno)})";
            return null;
        }
        if ((p.Features & FeatSingleMmap) == 0 || (p.Features & FeatNoDrop) == 0)
        {
            Close(fd);
            error = "the kernel's io_uring is older than 5.5 (no single mmap or no-drop completions)";
            return null;
        }
        nuint ringLength = Math.Max(p.SqOff.Array + p.SqEntries * sizeof(uint), p.CqOff.Cqes + p.CqEntries * (uint)sizeof(Cqe));
        nint ring = MapRing(fd, ringLength, OffSqRing);
        nuint sqeLength = p.SqEntries * (uint)sizeof(Sqe);
        nint sqes = ring == 0 ? 0 : MapRing(fd, sqeLength, OffSqes);
        if (ring == 0 || sqes == 0)
        {
            if (ring != 0) Munmap(ring, ringLength);
            Close(fd);
            error = "mmap of the io_uring rings failed";
            return null;
        }
        error = null;
        return new SendRing(fd, p, ring, ringLength, sqes, sqeLength);
    }

    /// <summary>Adds a send of <paramref name="length"/> bytes at <paramref name="data"/> on socket <paramref name="fd"/>; its result goes to index <paramref name="slot"/>.</summary>
    public void PrepareSend(int fd, nint data, int length, int slot)
    {
        if (_prepared == Capacity) throw new InvalidOperationException("the ring is full: submit first");
        uint index = _localTail & _sqMask;
        Sqe* sqe = _sqes + index;
        *sqe = default;
        sqe->Opcode = OpSend;
        sqe->Fd = fd;
        sqe->Addr = (ulong)data;
        sqe->Len = (uint)length;
        sqe->MsgFlags = MsgDontWait;
        sqe->UserData = (ulong)slot;
        _sqArray[index] = index;
        _localTail++;
        _prepared++;
    }

    /// <summary>
    /// Submits every prepared send in one system call (more only when the kernel takes part of them) and waits for all
    /// their results: bytes sent, or a negative errno, in <paramref name="results"/> by slot. Throws
    /// <see cref="IOException"/> when the ring itself fails; then every slot not yet answered holds <see cref="NotSent"/>.
    /// </summary>
    public void SubmitAndWait(Span<int> results)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int count = _prepared;
        _prepared = 0;
        if (count == 0) return;
        results[..count].Fill(NotSent);
        // Release: the SQEs and the array entries must be visible to the kernel before the new tail.
        Volatile.Write(ref *_sqTail, _localTail);
        int toSubmit = count;
        int reaped = 0;
        while (reaped < count)
        {
            int entered = Enter(_ringFd, (uint)toSubmit, (uint)(count - reaped), EnterGetEvents, out int errno);
            if (entered >= 0)
            {
                toSubmit -= Math.Min(entered, toSubmit);
            }
            else if (errno is not (EINTR or EAGAIN or EBUSY))
            {
                reaped += Reap(results);
                throw new IOException($"io_uring_enter failed: errno {errno} ({ErrnoName(errno)}), {count - reaped} of {count} sends unanswered");
            }
            reaped += Reap(results);
        }
    }

    // Moves every posted completion's result into its slot; returns how many.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Reap(Span<int> results)
    {
        uint head = *_cqHead;
        uint tail = Volatile.Read(ref *_cqTail); // acquire: the CQEs before the tail are written
        int reaped = 0;
        while (head != tail)
        {
            Cqe* cqe = _cqes + (head & _cqMask);
            results[(int)cqe->UserData] = cqe->Res;
            head++;
            reaped++;
        }
        Volatile.Write(ref *_cqHead, head); // release: the kernel may reuse the slots
        return reaped;
    }

    /// <summary>A short name for the errno values io_uring and sockets answer.</summary>
    public static string ErrnoName(int errno) => errno switch
    {
        1 => "EPERM",
        4 => "EINTR",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        14 => "EFAULT",
        16 => "EBUSY",
        22 => "EINVAL",
        24 => "EMFILE",
        32 => "EPIPE",
        38 => "ENOSYS",
        88 => "ENOTSOCK",
        104 => "ECONNRESET",
        107 => "ENOTCONN",
        110 => "ETIMEDOUT",
        _ => "errno " + errno,
    };

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Munmap(_sqeMemory, _sqeLength);
        Munmap(_ringMemory, _ringLength);
        Close(_ringFd);
    }
}
