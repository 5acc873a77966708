using System.Buffers;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;
using PresenceD.Server.Expiry;
using PresenceD.Server.Rooms;

namespace PresenceD.Server.History;

/// <summary>
/// Standalone history of one room: the room's <see cref="RoomHistory"/> ring in the node's <see cref="HistoryStore"/>,
/// looked up on each use, since the store drops a history that expired (a new epoch follows) or that a reload
/// unmatched (then the room's messages carry offset 0 again).
/// </summary>
internal sealed class MemoryRoomHistory(HistoryStore store, string room, IClock clock) : IRoomHistory
{
    public bool Enabled => true;

    public bool ReadsBeforeJoin => false;

    public bool EpochUnknown => false;

    public HistoryAppend Append(RoomMember from, in ReadOnlySequence<byte> payload, FrameBuffer frame)
    {
        AppendLocal(from, payload, frame);
        return HistoryAppend.Kept;
    }

    public void AppendLocal(RoomMember from, in ReadOnlySequence<byte> payload, FrameBuffer frame)
    {
        while (true)
        {
            RoomHistory? history = store.Get(room);
            if (history is null)
            {
                ServerFrames.Message(frame, room, from.User, from.ConnId, payload, 0);
                return;
            }
            lock (history.SyncRoot)
            {
                if (history.IsRetired) continue; // dropped by the expiry sweep meanwhile: the next one is a new epoch
                long offset = history.NextOffset();
                ServerFrames.Message(frame, room, from.User, from.ConnId, payload, (ulong)offset);
                history.Append(offset, frame.WrittenSpan, clock.NowMs);
                return;
            }
        }
    }

    public ValueTask<HistoryRead?> ReadForJoinAsync(JoinSince since) => new((HistoryRead?)null);

    public bool PrepareJoined(in JoinSince since, HistoryRead? read, bool lastTry, FrameBuffer replay, SendBatch batch, out JoinedHistory joined)
    {
        RoomHistory? history = store.Get(room);
        string epoch = history?.Epoch ?? "";
        long lastOffset = history?.LastOffset ?? 0;
        bool recovered = history is not null && since.Present && since.Epoch == epoch && since.Offset <= long.MaxValue
            && history.TryReplay((long)since.Offset, clock.NowMs, replay, static (output, frame) => output.Write(frame.Span));
        joined = new JoinedHistory(epoch, lastOffset, recovered);
        return true;
    }
}
