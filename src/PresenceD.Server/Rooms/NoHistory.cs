using System.Buffers;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Rooms;

/// <summary>A room that keeps no history: every MESSAGE carries offset 0 and a JOIN's since is never served.</summary>
internal sealed class NoHistory : IRoomHistory
{
    public static readonly NoHistory Instance = new();

    private NoHistory()
    {
    }

    public bool Enabled => false;

    public bool ReadsBeforeJoin => false;

    public bool EpochUnknown => false;

    public HistoryAppend Append(RoomMember from, in ReadOnlySequence<byte> payload, FrameBuffer frame)
    {
        AppendLocal(from, payload, frame);
        return HistoryAppend.Kept;
    }

    public void AppendLocal(RoomMember from, in ReadOnlySequence<byte> payload, FrameBuffer frame) =>
        ServerFrames.Message(frame, from.Room.Name, from.User, from.ConnId, payload, 0);

    public ValueTask<HistoryRead?> ReadForJoinAsync(JoinSince since) => new((HistoryRead?)null);

    public bool PrepareJoined(in JoinSince since, HistoryRead? read, bool lastTry, FrameBuffer replay, SendBatch batch, out JoinedHistory joined)
    {
        joined = new JoinedHistory("", 0, Recovered: false);
        return true;
    }
}
