using System.Buffers;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Rooms;

/// <summary>
/// A membership moving between nodes with its session (a resume on another node), without a diff and without a frame
/// lost or repeated. The room's channel orders every node's frames the same way for every subscriber, so it is where
/// the cut is made: the new node adds the member and publishes a mark in one step; the old node delivers to the member
/// (holds, for the resume) every frame before the mark, the new node every frame after it. Two kinds of frame do not
/// go through the channel first, and are ordered by the lock and the publish gate instead:
/// <list type="bullet">
/// <item>The new node's own: its member joins its local fan-out in the same step that queues the mark, so a local
/// frame reaches it exactly when the same frame on the channel follows the mark.</item>
/// <item>The old node's own: delivered locally before the old node reads the mark, the same frame can follow the mark
/// on the channel. So the old node, when it releases the member, publishes an acknowledgement in the same step, and the
/// new node skips the old node's frames between mark and acknowledgement (it delivered those) unless they are history
/// messages, which every node delivers from the channel.</item>
/// </list>
/// The step is atomic for presence changes (they hold the room's lock) and for publishes to history rooms (so do they);
/// publishes to other rooms take no lock, so a cut closes the publish gate: it waits for those in flight and makes the
/// next ones take the lock until it is done.
/// </summary>
internal sealed partial class Room
{
    // Lock-free publishes in flight, plus GateClosed while a cut holds the room's lock.
    private const int GateClosed = 1 << 24;
    private int _publishGate;
    // Members of this room waiting for their cut's mark or acknowledgement (the new node's side).
    private int _pendingCuts;

    /// <summary>True while a member handed over to this node waits for its cut: channel frames then check each member.</summary>
    public bool HasPendingCuts => Volatile.Read(ref _pendingCuts) != 0;

    private bool TryEnterLockFreePublish()
    {
        if (Interlocked.Increment(ref _publishGate) < GateClosed) return true;
        Interlocked.Decrement(ref _publishGate);
        return false;
    }

    private void ExitLockFreePublish() => Interlocked.Decrement(ref _publishGate);

    /// <summary>Under <see cref="Sync"/>: no lock-free publish runs until <see cref="OpenPublishGate"/> (those in flight finish first).</summary>
    private void ClosePublishGate()
    {
        Interlocked.Add(ref _publishGate, GateClosed);
        var spin = new SpinWait();
        while ((Volatile.Read(ref _publishGate) & (GateClosed - 1)) != 0) spin.SpinOnce();
    }

    private void OpenPublishGate() => Interlocked.Add(ref _publishGate, -GateClosed);

    /// <summary>
    /// The new node's side: <paramref name="member"/> (placed, not visible, the room ready) is the membership of a
    /// session handed over from <paramref name="fromNode"/>. It replaces the replica's entry for its conn and becomes a
    /// local member without a diff; the mark and then the member's own upsert (now this node's entry) go out in the
    /// same step. Caller holds the session's lock.
    /// </summary>
    public void AdoptHandedOver(RoomMember member, string fromNode)
    {
        lock (Sync)
        {
            ClosePublishGate();
            try
            {
                if (_remote is not null && _remote.Remove(member.ConnId, out RemoteMember? known)) RemoveUser(known.User);
                LocalConnections++;
                AddUser(member.User);
                member.CutFrom = fromNode;
                member.AwaitingMark = true;
                Interlocked.Increment(ref _pendingCuts);
                member.Visible = true;
                Broker.AnnounceCut(member.ConnId);
                Broker.MemberUpserted(member);
            }
            finally
            {
                OpenPublishGate();
            }
        }
    }

    /// <summary>The new node's side: this node's mark for <paramref name="conn"/> came back through the channel.</summary>
    public void OnOwnCutMark(string conn)
    {
        lock (Sync)
        {
            foreach (RoomMember member in Members)
            {
                if (member.ConnId == conn && member.AwaitingMark) member.AwaitingMark = false;
            }
        }
    }

    /// <summary>The new node's side: <paramref name="fromNode"/> released <paramref name="conn"/>: its frames are this node's to deliver now.</summary>
    public void OnCutAcknowledged(string conn, string fromNode)
    {
        lock (Sync)
        {
            foreach (RoomMember member in Members)
            {
                if (member.ConnId == conn && member.CutFrom == fromNode) EndCut(member);
            }
        }
    }

    /// <summary>
    /// The hand-over finished a while ago and <paramref name="member"/> still waits for its mark or acknowledgement: the
    /// echo was lost (a subscription gap). It gets every frame from now on; true when it had to be told so.
    /// </summary>
    public bool EndUnfinishedCut(RoomMember member)
    {
        lock (Sync)
        {
            if (member.CutFrom is null && !member.AwaitingMark) return false;
            EndCut(member);
            return true;
        }
    }

    /// <summary>Under <see cref="Sync"/>: the member no longer waits for a cut (done, or it left meanwhile).</summary>
    private void EndCut(RoomMember member)
    {
        if (member.CutFrom is null && !member.AwaitingMark) return;
        member.CutFrom = null;
        member.AwaitingMark = false;
        Interlocked.Decrement(ref _pendingCuts);
    }

    /// <summary>
    /// The old node's side: <paramref name="toNode"/>'s mark for <paramref name="conn"/> came through the channel. The
    /// departing member stops receiving here and becomes, without a diff, the replica's entry for its new node; the
    /// acknowledgement goes out in the same step. Returns the member released (null when none was departing there).
    /// </summary>
    public RoomMember? ReleaseDeparted(string conn, string toNode)
    {
        lock (Sync)
        {
            RoomMember? departing = null;
            foreach (RoomMember member in Members)
            {
                if (member.Visible && member.ConnId == conn && member.Departure?.ToNode == toNode) departing = member;
            }
            if (departing is null) return null;
            ClosePublishGate();
            try
            {
                departing.Visible = false;
                LocalConnections--;
                // The user's count stays: the connection is in the room still, on another node.
                _remote ??= new Dictionary<string, RemoteMember>(StringComparer.Ordinal);
                _remote[conn] = new RemoteMember(departing.User, conn, toNode, departing.Meta);
                Broker.AcknowledgeCut(conn);
            }
            finally
            {
                OpenPublishGate();
            }
            return departing;
        }
    }
}
