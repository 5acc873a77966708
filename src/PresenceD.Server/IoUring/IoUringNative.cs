using System.Runtime.InteropServices;

namespace PresenceD.Server.IoUring;

/// <summary>
/// The three io_uring system calls and mmap, called through libc's <c>syscall</c> (no liburing, so nothing to
/// install), and the kernel's structures from linux/io_uring.h, laid out as the kernel reads them.
/// </summary>
internal static unsafe partial class IoUringNative
{
    // The same numbers on every Linux architecture since 5.1 (the generic syscall table).
    private const long SysIoUringSetup = 425;
    private const long SysIoUringEnter = 426;

    public const uint SetupSubmitAll = 1U << 7;     // IORING_SETUP_SUBMIT_ALL: keep submitting past a bad SQE
    public const uint SetupCoopTaskrun = 1U << 8;   // IORING_SETUP_COOP_TASKRUN: no interrupt to run completions
    public const uint FeatSingleMmap = 1U << 0;     // IORING_FEAT_SINGLE_MMAP: SQ and CQ rings share one mapping
    public const uint FeatNoDrop = 1U << 1;         // IORING_FEAT_NODROP: completions are never dropped
    public const uint EnterGetEvents = 1U << 0;     // IORING_ENTER_GETEVENTS
    public const byte OpSend = 26;                  // IORING_OP_SEND
    public const int MsgDontWait = 0x40;            // MSG_DONTWAIT: a full socket completes -EAGAIN instead of arming a poll

    public const long OffSqRing = 0;
    public const long OffCqRing = 0x8000000;
    public const long OffSqes = 0x10000000;

    private const int ProtRead = 1, ProtWrite = 2;
    private const int MapShared = 0x01, MapPopulate = 0x8000;

    public const int EINTR = 4, EAGAIN = 11, EBUSY = 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct SqRingOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CqRingOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Params
    {
        public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd;
        public fixed uint Resv[3];
        public SqRingOffsets SqOff;
        public CqRingOffsets CqOff;
    }

    /// <summary>struct io_uring_sqe: 64 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    public struct Sqe
    {
        [FieldOffset(0)] public byte Opcode;
        [FieldOffset(1)] public byte Flags;
        [FieldOffset(2)] public ushort IoPrio;
        [FieldOffset(4)] public int Fd;
        [FieldOffset(8)] public ulong Off;
        [FieldOffset(16)] public ulong Addr;
        [FieldOffset(24)] public uint Len;
        [FieldOffset(28)] public int MsgFlags;
        [FieldOffset(32)] public ulong UserData;
        [FieldOffset(40)] public ushort BufIndex;
        [FieldOffset(42)] public ushort Personality;
        [FieldOffset(44)] public int SpliceFdIn;
        [FieldOffset(48)] public ulong Addr3;
        [FieldOffset(56)] public ulong Pad2;
    }

    /// <summary>struct io_uring_cqe: 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Cqe
    {
        public ulong UserData;
        public int Res;
        public uint Flags;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall2(long number, uint a1, Params* a2);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall6(long number, int a1, uint a2, uint a3, uint a4, nint a5, nuint a6);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>io_uring_setup: a ring fd, or -1 with the errno in <paramref name="errno"/>.</summary>
    public static int Setup(uint entries, ref Params parameters, out int errno)
    {
        long result;
        fixed (Params* p = &parameters) result = Syscall2(SysIoUringSetup, entries, p);
        errno = result < 0 ? Marshal.GetLastSystemError() : 0;
        return (int)result;
    }

    /// <summary>io_uring_enter without a signal mask: SQEs submitted, or -1 with the errno in <paramref name="errno"/>.</summary>
    public static int Enter(int ringFd, uint toSubmit, uint minComplete, uint flags, out int errno)
    {
        long result = Syscall6(SysIoUringEnter, ringFd, toSubmit, minComplete, flags, 0, 0);
        errno = result < 0 ? Marshal.GetLastSystemError() : 0;
        return (int)result;
    }

    /// <summary>Maps one of the ring's regions shared and populated; 0 on failure.</summary>
    public static nint MapRing(int ringFd, nuint length, long offset)
    {
        nint address = Mmap(0, length, ProtRead | ProtWrite, MapShared | MapPopulate, ringFd, offset);
        return address == -1 ? 0 : address;
    }
}
