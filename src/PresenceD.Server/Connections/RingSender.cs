using Microsoft.Extensions.Logging;
using PresenceD.Server.IoUring;

namespace PresenceD.Server.Connections;

/// <summary>
/// One <see cref="SendRing"/> and what its submissions need: the connections of the prepared sends, by slot, and
/// their results. <see cref="Send"/> takes each connection's pending batch, submits them all in one io_uring_enter
/// and gives each connection its result. Used by one thread at a time (a shard's work item, or a thread that rented
/// it for its own batch). When the ring fails it says so, and its owner sends with epoll from then on.
/// </summary>
internal sealed class RingSender : IDisposable
{
    private readonly SendRing _ring;
    private readonly Connection[] _inRing;
    private readonly int[] _results;
    private readonly ILogger? _logger;

    private RingSender(SendRing ring, ILogger? logger)
    {
        _ring = ring;
        _inRing = new Connection[ring.Capacity];
        _results = new int[ring.Capacity];
        _logger = logger;
    }

    /// <summary>Most sends one submission carries; a longer list takes several.</summary>
    public int Capacity => _ring.Capacity;

    /// <summary>True once the ring failed: dispose it and send another way.</summary>
    public bool Failed { get; private set; }

    /// <summary>A sender on a new ring of <paramref name="entries"/> slots, or null with the kernel's reason.</summary>
    public static RingSender? TryCreate(uint entries, ILogger? logger, out string? error)
    {
        SendRing? ring = SendRing.TryCreate(entries, out error);
        return ring is null ? null : new RingSender(ring, logger);
    }

    /// <summary>Sends what each of <paramref name="connections"/> has queued; a connection another thread is sending for is skipped (that thread sends the rest).</summary>
    public void Send(ReadOnlySpan<Connection> connections)
    {
        int prepared = 0;
        foreach (Connection connection in connections)
        {
            if (Failed)
            {
                connection.SendQueued();
                continue;
            }
            if (!connection.TryBeginRingSend(out int fd, out nint data, out int length)) continue;
            _ring.PrepareSend(fd, data, length, prepared);
            _inRing[prepared++] = connection;
            if (prepared == _ring.Capacity)
            {
                Submit(prepared);
                prepared = 0;
            }
        }
        if (prepared > 0) Submit(prepared);
    }

    // One io_uring_enter for the prepared sends; each connection then finishes its own (the rest of a partial send,
    // the close of a failed one). A failed ring answers NotSent: those connections send the bytes asynchronously.
    private void Submit(int prepared)
    {
        try
        {
            _ring.SubmitAndWait(_results);
        }
        catch (IOException e)
        {
            Failed = true;
            _logger?.LogError(e, "io_engine io_uring: a send ring failed; its sends go out with epoll from now on");
        }
        for (int i = 0; i < prepared; i++)
        {
            _inRing[i].EndRingSend(_results[i]);
            _inRing[i] = null!;
        }
    }

    public void Dispose() => _ring.Dispose();
}
