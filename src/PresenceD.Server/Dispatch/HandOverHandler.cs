using Microsoft.Extensions.Logging;
using PresenceD.Server.Connections;
using PresenceD.Server.Expiry;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>
/// The old node's side of a cross-node resume. A TAKE from the node a HELLO with this node's token reached takes the
/// session out of the resumable table (so of two takers, or a taker and a local resume, exactly one gets it), and the
/// answer GIVE carries its conn id, user and memberships. The memberships stay here, still holding frames, until each
/// room's channel brings the new node's mark (Room.HandOver.cs); when the last room is released, HELD carries every
/// frame held for the session, and the session is gone from this node without a diff or a write. A hand-over that has
/// not finished within resume_handover_timeout ends the rooms not released yet the normal way: wills, then leaves.
/// </summary>
internal sealed partial class Dispatcher
{
    /// <summary>A message on this node's channel: a TAKE for one of its sessions, or an answer to one of its own.</summary>
    private void OnLinkMessage(SessionLinkMessage message)
    {
        if (message.Kind == SessionLinkKind.Take)
        {
            OnTake(message);
            return;
        }
        if (_arrivals.TryGetValue(message.Id, out Arrival? arrival)) arrival.Answer(message);
        else _logger.LogInformation("hand-over {Id}: {Kind} from node {Node} came after the resume stopped waiting", message.Id, message.Kind, message.FromNode);
    }

    private void OnTake(SessionLinkMessage take)
    {
        ISessionLink link = Backplane.SessionLink!;
        if (!TryDepart(take, out Session? old, out RoomMember[]? rooms, out Departure? departure))
        {
            link.Send(take.FromNode, new SessionLinkMessage(SessionLinkKind.Refuse, take.Id, link.NodeId));
            return;
        }
        var given = new List<HandedOverRoom>(rooms.Length);
        foreach (RoomMember member in rooms) given.Add(new HandedOverRoom(member.Room.Name, member.Meta, member.Will));
        link.Send(take.FromNode, new SessionLinkMessage(SessionLinkKind.Give, take.Id, link.NodeId) { Conn = old.ConnId, User = old.User, Rooms = given });
        departure.Start();
    }

    /// <summary>
    /// Takes the session <paramref name="take"/> names for its new node: out of the table, no longer suspended, every
    /// membership marked as departing. False when no session of that user can resume here.
    /// </summary>
    private bool TryDepart(SessionLinkMessage take, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Session? old,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RoomMember[]? rooms, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Departure? departure)
    {
        rooms = null;
        departure = null;
        if (!_resumable.TryTake(take.Token, take.User, out old)) return false;
        Connection oldConnection = old.Connection;
        lock (old.Sync)
        {
            if (old.Ended) return false;
            // As for a resume here: a connection the server still thinks open is superseded, and holds from now on.
            if (!oldConnection.IsClosing) oldConnection.RequestClose(CloseReason.Superseded);
            if (!oldConnection.IsHolding) return false;
            old.Ended = true;
            if (old.IsSuspended) ResumeCounters.Unsuspend();
            old.IsSuspended = false;
            if (old.Suspension is not null) _wheel.Cancel(old.Suspension);
            rooms = old.TakeAllRooms();
            departure = new Departure(this, old, take.FromNode, take.Id, rooms);
            foreach (RoomMember member in rooms)
            {
                lock (member.Room.Sync) member.Departure = departure;
            }
        }
        return true;
    }

    /// <summary>
    /// One session on its way to <see cref="ToNode"/>: counts its rooms' releases, and is its own deadline on the wheel
    /// (which hands the expiry to a pool thread: ending rooms takes locks the wheel's thread must not wait on).
    /// </summary>
    private sealed class Departure(Dispatcher dispatcher, Session old, string toNode, string id, RoomMember[] rooms) : WheelTimer, IDeparture
    {
        private int _remaining = rooms.Length;
        private int _done;

        public string ToNode { get; } = toNode;

        public void Start()
        {
            dispatcher._wheel.Schedule(this, dispatcher._clock.NowMs + (long)dispatcher.Options.ResumeHandoverTimeout.TotalMilliseconds);
            if (rooms.Length == 0) Moved();
        }

        public void RoomReleased(RoomMember member)
        {
            if (Interlocked.Decrement(ref _remaining) == 0) Moved();
        }

        protected internal override void OnExpired(long nowMs) =>
            ThreadPool.UnsafeQueueUserWorkItem(static d => d.TimedOut(), this, preferLocal: false);

        /// <summary>Every room released at its mark: the held frames go to the new node, and the session is gone from here.</summary>
        private void Moved()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0) return;
            dispatcher._wheel.Cancel(this);
            byte[]? held = old.Connection.Outbound.TakeHeld();
            ISessionLink link = dispatcher.Backplane.SessionLink!;
            link.Send(ToNode, new SessionLinkMessage(SessionLinkKind.Held, id, link.NodeId) { Held = held });
            dispatcher._online.Remove(old.User);
            dispatcher.Backplane.SessionMoved(old.ConnId);
            dispatcher.ResumeCounters.CountHandedOver();
            dispatcher._logger.LogInformation("conn {Conn} user {User} handed over to node {Node}: {Rooms} rooms, {HeldBytes} held bytes{Lost}",
                old.ConnId, old.User, ToNode, rooms.Length, held?.Length ?? 0, held is null ? " (the held frames were lost to resume_buffer: the new node ends the session)" : "");
        }

        /// <summary>resume_handover_timeout passed: the rooms not released yet end here the normal way, and the new node is told to end its part.</summary>
        private void TimedOut()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0) return;
            var staying = new List<RoomMember>();
            foreach (RoomMember member in rooms)
            {
                // Under the room's lock, as a mark's release: a membership is either released there or ended here.
                lock (member.Room.Sync)
                {
                    if (!ReferenceEquals(member.Departure, this) || !member.Visible) continue;
                    member.Departure = null;
                }
                staying.Add(member);
            }
            old.Connection.Outbound.DropHeld();
            ISessionLink link = dispatcher.Backplane.SessionLink!;
            link.Send(ToNode, new SessionLinkMessage(SessionLinkKind.Held, id, link.NodeId) { Held = null });
            dispatcher.ResumeCounters.CountHandOverFailed();
            dispatcher._logger.LogWarning("conn {Conn} user {User}: the hand-over to node {Node} did not finish within resume_handover_timeout; {Staying} of {Rooms} rooms end here the normal way (wills, then leaves)",
                old.ConnId, old.User, ToNode, staying.Count, rooms.Length);
            dispatcher.LeaveAll(old, [.. staying], deliverWills: true);
        }
    }
}
