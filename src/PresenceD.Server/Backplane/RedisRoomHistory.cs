using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Rooms;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// A history room in a cluster: offsets come from Redis (history_append.lua), so every node, the publisher's
/// included, fans a room's messages out as they come back on the channel, in offset order. The node tracks the
/// last offset it fanned out (<see cref="_lastDeliveredOffset"/>) and advances it from whichever source gets
/// there first, the channel or a read done for a joiner, skipping what it already delivered: so a joiner's
/// recovered frames and the live stream meet without a gap or a duplicate. State under the room's lock.
/// </summary>
internal sealed class RedisRoomHistory(RedisBackplane backplane, RedisRoomBroker broker) : IRoomHistory
{
    private long _lastDeliveredOffset;
    private string _epoch = "";

    private Room Room => broker.Room;

    public bool Enabled => true;

    public bool ReadsBeforeJoin => true;

    public bool EpochUnknown => Volatile.Read(ref _epoch).Length == 0;

    public HistoryAppend Append(RoomMember from, in ReadOnlySequence<byte> payload, FrameBuffer frame)
    {
        AppendLocal(from, payload, frame);
        if (backplane.Health.State == BackplaneState.Degraded)
        {
            backplane.Health.CountDropped(1);
            return HistoryAppend.Unavailable;
        }
        ServerOptions options = backplane.Options;
        byte[] body = frame.WrittenSpan[4..^1].ToArray(); // the length prefix and the fixint 0 offset are redone by the script
        RoomKeys keys = broker.Keys;
        var args = new RedisValue[] { body, options.HistorySize, keys.ChannelName, backplane.NodeIdBytes, backplane.NewEpoch(), (long)options.HistoryTtl.TotalMilliseconds };
        return backplane.Queue.TryEnqueue(BackplaneCommand.Run(CommandKind.HistoryPublish, backplane.Scripts.HistoryAppend, keys.History, args))
            ? HistoryAppend.Deferred
            : HistoryAppend.Unavailable;
    }

    public void AppendLocal(RoomMember from, in ReadOnlySequence<byte> payload, FrameBuffer frame) =>
        ServerFrames.Message(frame, Room.Name, from.User, from.ConnId, payload, 0);

    /// <summary>
    /// Read even while the node is degraded: Redis may answer again before the node's resync (the next maintenance
    /// tick) says so, and a JOINED without the epoch cannot be recovered from later. The gateway bounds the wait
    /// (redis_timeout; nothing once the circuit breaker is open).
    /// </summary>
    public async ValueTask<HistoryRead?> ReadForJoinAsync(JoinSince since)
    {
        long from = ReadFrom(since);
        try
        {
            var args = new RedisValue[] { from, backplane.NewEpoch(), (long)backplane.Options.HistoryTtl.TotalMilliseconds };
            RedisResult result = await backplane.Gateway.RunAsync((keys: broker.Keys, args, script: backplane.Scripts.HistoryRead), static (db, s) =>
                db.ScriptEvaluateAsync(s.script, s.keys.History, s.args)).ConfigureAwait(false);
            var items = (RedisResult[])result!;
            var frames = new List<byte[]>(items.Length - 3);
            for (int i = 3; i < items.Length; i++) frames.Add((byte[])items[i]!);
            return new HistoryRead((string)items[0]!, (long)items[1], (long)items[2] == 1, from, frames);
        }
        catch (Exception e)
        {
            // Counted by the gateway; the joiner then joins without recovery, with the epoch this node knows ("" when none).
            // An open circuit (Redis known down) refuses every call: said once by the breaker, not once per join.
            LogLevel level = e is BrokenCircuitException ? LogLevel.Debug : LogLevel.Warning;
            backplane.Logger.Log(level, "room {Room}: history not read from redis ({Error}); joining without recovery", Room.Name, e.Message);
            return null;
        }
    }

    public bool PrepareJoined(in JoinSince since, HistoryRead? read, bool lastTry, FrameBuffer replay, SendBatch batch, out JoinedHistory joined)
    {
        if (read is not null && !Advance(read, batch))
        {
            if (!lastTry)
            {
                joined = default;
                return false;
            }
            read = null;
        }
        IEnumerable<byte[]>? frames = read is null || !since.Present ? null : Replay(read, since.Epoch, since.Offset);
        foreach (byte[] frame in frames ?? []) replay.Write(frame);
        joined = new JoinedHistory(_epoch, _lastDeliveredOffset, Recovered: frames is not null);
        return true;
    }

    /// <summary>A history MESSAGE from the channel: body = epoch length u8 | epoch | frame.</summary>
    public void OnMessage(ReadOnlySpan<byte> body, bool fromThisNode, SendBatch batch)
    {
        string epoch = Encoding.UTF8.GetString(body.Slice(1, body[0]));
        byte[] frame = body[(1 + body[0])..].ToArray();
        lock (Room.Sync)
        {
            if (!Room.IsReady) return;
            AdoptEpoch(epoch);
            Deliver(frame, fromThisNode, batch);
        }
    }

    /// <summary>
    /// Brings the room up to <paramref name="read"/> before a joiner is added: fans out to the current members the
    /// frames they have not had yet. False when the read is older than what the node already delivered (read again).
    /// </summary>
    private bool Advance(HistoryRead read, SendBatch batch)
    {
        if (read.Epoch.Length == 0) return true;
        if (_epoch.Length == 0)
        {
            // The first epoch this node learns (no message delivered yet: Deliver follows an epoch). Members already
            // here joined while Redis could not be read, with epoch "": the history before their JOIN is not theirs.
            _epoch = read.Epoch;
            _lastDeliveredOffset = read.Last;
            return true;
        }
        AdoptEpoch(read.Epoch);
        if (_lastDeliveredOffset > read.Last) return false;
        for (int i = 0; i < read.Frames.Count; i++)
        {
            if (read.From + 1 + i > _lastDeliveredOffset) Deliver(read.Frames[i], fromThisNode: true, batch);
        }
        _lastDeliveredOffset = read.Last;
        return true;
    }

    /// <summary>The frames of <paramref name="read"/> after <paramref name="since"/> up to the room's delivered offset, or null when they are not all held.</summary>
    private IEnumerable<byte[]>? Replay(HistoryRead read, string sinceEpoch, ulong since)
    {
        if (read.Epoch.Length == 0 || sinceEpoch != read.Epoch || since > (ulong)_lastDeliveredOffset) return null;
        if ((long)since == _lastDeliveredOffset) return [];
        if (!read.Complete || (long)since < read.From) return null;
        return read.Frames.Skip((int)((long)since - read.From)).Take((int)(_lastDeliveredOffset - (long)since));
    }

    /// <summary>Where a joiner's read must start so that it covers both its own gap and the node's.</summary>
    private long ReadFrom(in JoinSince since)
    {
        lock (Room.Sync)
        {
            long delivered = _epoch.Length == 0 ? 0 : _lastDeliveredOffset;
            bool sameEpoch = since.Present && (_epoch.Length == 0 || since.Epoch == _epoch);
            return sameEpoch && since.Offset < (ulong)delivered ? (long)since.Offset : delivered;
        }
    }

    private void AdoptEpoch(string epoch)
    {
        if (epoch == _epoch) return;
        // The history was lost (Redis restarted empty, or it expired): offsets start again at 1.
        _epoch = epoch;
        _lastDeliveredOffset = 0;
    }

    private void Deliver(byte[] frame, bool fromThisNode, SendBatch batch)
    {
        var body = new ReadOnlySequence<byte>(frame, 4, frame.Length - 4);
        if (!ServerMessageDecoder.TryReadMessage(body, out MessageView message)) return;
        long offset = (long)message.Offset;
        if (offset <= _lastDeliveredOffset) return; // already fanned out (from a joiner's read, or twice)
        _lastDeliveredOffset = offset;
        Connection? publisher = null;
        if (fromThisNode)
        {
            string conn = Protocol.MessagePack.Utf8.GetString(message.FromConn);
            foreach (RoomMember member in Room.Members)
            {
                if (member.ConnId == conn) publisher = member.Connection;
            }
        }
        RoomFanout.DeliverFromChannel(Room, frame, origin: null, channelOrdered: true, except: publisher, batch);
    }
}
