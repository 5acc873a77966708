using System.Buffers;
using System.Text;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Fanout;
using PresenceD.Server.Hosting;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Backplane;

/// <summary>A room's history as read from Redis: epoch ("" when none), last offset, and the frames From+1..Last when Complete.</summary>
internal sealed record HistoryRead(string Epoch, long Last, bool Complete, long From, IReadOnlyList<byte[]> Frames);

/// <summary>
/// History rooms in a cluster: offsets come from Redis (history_append.lua), so every node, the publisher's
/// included, fans a room's messages out as they come back on the channel, in offset order. A node tracks the
/// last offset it fanned out per room (<see cref="RoomPresence.LastDeliveredOffset"/>) and advances it from
/// whichever source gets there first, the channel or a read done for a joiner, skipping what it already
/// delivered: so a joiner's recovered frames and the live stream meet without a gap or a duplicate.
/// </summary>
internal static class ClusterHistory
{
    /// <summary>A history MESSAGE from the channel: body = epoch length u8 | epoch | frame. Takes the presence lock.</summary>
    public static void OnMessage(ServerContext server, Room<RoomMember> room, RoomPresence presence, ReadOnlySpan<byte> body, bool fromThisNode)
    {
        string epoch = Encoding.UTF8.GetString(body.Slice(1, body[0]));
        byte[] frame = body[(1 + body[0])..].ToArray();
        lock (presence.Sync)
        {
            if (!presence.IsReady) return;
            AdoptEpoch(presence, epoch);
            Deliver(server, room, presence, frame, fromThisNode);
        }
    }

    /// <summary>
    /// Brings the room up to <paramref name="read"/> before a joiner is added (caller holds the presence lock):
    /// fans out to the current members the frames they have not had yet. False when the read is older than
    /// what the node already delivered (read again).
    /// </summary>
    public static bool Advance(ServerContext server, Room<RoomMember> room, RoomPresence presence, HistoryRead read)
    {
        if (read.Epoch.Length == 0) return true;
        AdoptEpoch(presence, read.Epoch);
        if (presence.LastDeliveredOffset > read.Last) return false;
        for (int i = 0; i < read.Frames.Count; i++)
        {
            if (read.From + 1 + i > presence.LastDeliveredOffset) Deliver(server, room, presence, read.Frames[i], fromThisNode: true);
        }
        presence.LastDeliveredOffset = read.Last;
        return true;
    }

    /// <summary>The frames of <paramref name="read"/> after <paramref name="since"/> up to the room's delivered offset, or null when they are not all held.</summary>
    public static IEnumerable<byte[]>? Replay(HistoryRead read, RoomPresence presence, string sinceEpoch, ulong since)
    {
        if (read.Epoch.Length == 0 || sinceEpoch != read.Epoch || since > (ulong)presence.LastDeliveredOffset) return null;
        if ((long)since == presence.LastDeliveredOffset) return [];
        if (!read.Complete || (long)since < read.From) return null;
        return read.Frames.Skip((int)((long)since - read.From)).Take((int)(presence.LastDeliveredOffset - (long)since));
    }

    /// <summary>Where a joiner's read must start so that it covers both its own gap and the node's (-1: nothing to fetch).</summary>
    public static long ReadFrom(RoomPresence presence, bool hasSince, string sinceEpoch, ulong since)
    {
        lock (presence.Sync)
        {
            long delivered = presence.HistoryEpoch.Length == 0 ? 0 : presence.LastDeliveredOffset;
            bool sameEpoch = hasSince && (presence.HistoryEpoch.Length == 0 || sinceEpoch == presence.HistoryEpoch);
            return sameEpoch && since < (ulong)delivered ? (long)since : delivered;
        }
    }

    private static void AdoptEpoch(RoomPresence presence, string epoch)
    {
        if (epoch == presence.HistoryEpoch) return;
        // The history was lost (Redis restarted empty, or it expired): offsets start again at 1.
        presence.HistoryEpoch = epoch;
        presence.LastDeliveredOffset = 0;
    }

    private static void Deliver(ServerContext server, Room<RoomMember> room, RoomPresence presence, byte[] frame, bool fromThisNode)
    {
        var body = new ReadOnlySequence<byte>(frame, 4, frame.Length - 4);
        if (!ServerMessageDecoder.TryReadMessage(body, out MessageView message)) return;
        long offset = (long)message.Offset;
        if (offset <= presence.LastDeliveredOffset) return; // already fanned out (from a joiner's read, or twice)
        presence.LastDeliveredOffset = offset;
        Session? publisher = null;
        if (fromThisNode)
        {
            string conn = Protocol.MessagePack.Utf8.GetString(message.FromConn);
            foreach (RoomMember member in room.Members)
            {
                if (member.Session.ConnId == conn) publisher = member.Session;
            }
        }
        server.Metrics.Delivered(RoomBroadcaster.Deliver(room, frame, except: publisher));
    }
}
