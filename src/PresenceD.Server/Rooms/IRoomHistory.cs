using System.Buffers;
using PresenceD.Protocol.Framing;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Rooms;

/// <summary>
/// A room's message history, owned by its broker: none, a ring buffer in this process, or a Redis Stream the
/// cluster shares. It assigns each message its offset and serves a joiner's recovery (JOIN since). Methods run
/// under the room's lock unless said otherwise, which keeps offsets in the order members receive them.
/// </summary>
internal interface IRoomHistory
{
    /// <summary>False when the room keeps no history: its publishes take no lock and carry offset 0.</summary>
    bool Enabled { get; }

    /// <summary>True when a joiner's recovery needs <see cref="ReadForJoinAsync"/> before its JOINED (a history kept in Redis).</summary>
    bool ReadsBeforeJoin { get; }

    /// <summary>
    /// True while this node knows no epoch of a history it reads before a join (every read so far failed and no
    /// message came): a re-JOIN then reads too, so that a member that joined while Redis could not be read
    /// learns the epoch by joining again.
    /// </summary>
    bool EpochUnknown { get; }

    /// <summary>
    /// Encodes <paramref name="from"/>'s MESSAGE into <paramref name="frame"/> with its offset and records it.
    /// <see cref="HistoryAppend.Kept"/>: deliver the frame now; <see cref="HistoryAppend.Deferred"/>: the history's
    /// store fans it out to every node, this one included, once it assigned the offset; <see cref="HistoryAppend.Unavailable"/>:
    /// not recorded (the store is unreachable), encoded with offset 0 for this node's members only.
    /// </summary>
    HistoryAppend Append(RoomMember from, in ReadOnlySequence<byte> payload, FrameBuffer frame);

    /// <summary>
    /// Encodes a message that this node delivers to its own members now (a vanished member's will; other nodes
    /// deliver their copy from the leave) and records it where this node records messages itself.
    /// </summary>
    void AppendLocal(RoomMember from, in ReadOnlySequence<byte> payload, FrameBuffer frame);

    /// <summary>Off the room's lock: what a joiner's recovery needs from a remote store (null when nothing is needed or the store cannot answer).</summary>
    ValueTask<HistoryRead?> ReadForJoinAsync(JoinSince since);

    /// <summary>
    /// Just before a joiner becomes visible: the epoch and last offset its JOINED carries and, when its
    /// <paramref name="since"/> can be served, the frames it missed, written into <paramref name="replay"/>.
    /// False (nothing done) when <paramref name="read"/> is older than what the room already delivered and this
    /// is not the <paramref name="lastTry"/>: read again.
    /// </summary>
    bool PrepareJoined(in JoinSince since, HistoryRead? read, bool lastTry, FrameBuffer replay, SendBatch batch, out JoinedHistory joined);
}

/// <summary>What <see cref="IRoomHistory.Append"/> did with a message.</summary>
internal enum HistoryAppend
{
    Kept,
    Deferred,
    Unavailable,
}

/// <summary>The history part of a JOINED: epoch, last offset, and whether the joiner's since was served.</summary>
internal readonly record struct JoinedHistory(string Epoch, long LastOffset, bool Recovered);

/// <summary>A room's history as read from a remote store: epoch ("" when none), last offset, and the frames From+1..Last when Complete.</summary>
internal sealed record HistoryRead(string Epoch, long Last, bool Complete, long From, IReadOnlyList<byte[]> Frames);

/// <summary>JOIN's since = [epoch, offset], decoded.</summary>
internal readonly record struct JoinSince(bool Present, string Epoch, ulong Offset);
