namespace PresenceD.Server.Connections;

/// <summary>
/// The connection layer's counters, bumped with Interlocked on the paths that cause them (no allocation, no
/// tags); Diagnostics exports them. Every close is counted here by its reason, once.
/// </summary>
internal sealed class ConnectionCounters
{
    private static readonly int ReasonCount = Enum.GetValues<CloseReason>().Length;

    private readonly long[] _closes = new long[ReasonCount];
    private long _accepted;
    private long _framesIn;
    private long _bytesIn;
    private long _bytesOut;
    private long _repliesSent;
    private long _handlerFailures;
    private long _protocolErrors;

    public long Accepted => Volatile.Read(ref _accepted);

    public long FramesReceived => Volatile.Read(ref _framesIn);

    public long BytesReceived => Volatile.Read(ref _bytesIn);

    public long BytesSent => Volatile.Read(ref _bytesOut);

    /// <summary>Reply frames (not fan-out deliveries) queued to clients.</summary>
    public long RepliesSent => Volatile.Read(ref _repliesSent);

    /// <summary>Session ends that threw (each is also logged): a bug, never expected.</summary>
    public long HandlerFailures => Volatile.Read(ref _handlerFailures);

    /// <summary>ERROR(PROTOCOL) replies sent for a malformed or out-of-place frame (the dispatcher counts the others).</summary>
    public long ProtocolErrorsSent => Volatile.Read(ref _protocolErrors);

    public long Closes(CloseReason reason) => Volatile.Read(ref _closes[(int)reason]);

    internal void CountProtocolError() => Interlocked.Increment(ref _protocolErrors);

    internal void CountAccepted() => Interlocked.Increment(ref _accepted);

    internal void CountFrameReceived() => Interlocked.Increment(ref _framesIn);

    internal void CountBytesReceived(int count) => Interlocked.Add(ref _bytesIn, count);

    internal void CountBytesSent(int count) => Interlocked.Add(ref _bytesOut, count);

    internal void CountReplySent() => Interlocked.Increment(ref _repliesSent);

    internal void CountHandlerFailure() => Interlocked.Increment(ref _handlerFailures);

    internal void CountClose(CloseReason reason) => Interlocked.Increment(ref _closes[(int)reason]);
}
