using System;
using System.Collections.Generic;

namespace PresenceD.Client;

/// <summary>
/// What one JOINED snapshot or PRESENCE_DIFF changed in a room's presence, already applied to
/// <see cref="PresenceClient.GetPresence"/>. A meta change (UPDATE) shows as <see cref="Updated"/>, not as a leave and a join.
/// </summary>
public sealed class PresenceChangedEventArgs : EventArgs
{
    private static readonly IReadOnlyList<Member> NoMembers = Array.Empty<Member>();
    private static readonly IReadOnlyList<string> NoUsers = Array.Empty<string>();

    /// <summary>Creates the event data.</summary>
    public PresenceChangedEventArgs(string room, bool isSnapshot, IReadOnlyList<Member>? joined, IReadOnlyList<Member>? left,
        IReadOnlyList<Member>? updated, IReadOnlyList<string>? usersOnline, IReadOnlyList<string>? usersOffline, long total)
    {
        Room = room;
        IsSnapshot = isSnapshot;
        Joined = joined ?? NoMembers;
        Left = left ?? NoMembers;
        Updated = updated ?? NoMembers;
        UsersOnline = usersOnline ?? NoUsers;
        UsersOffline = usersOffline ?? NoUsers;
        Total = total;
    }

    /// <summary>The room.</summary>
    public string Room { get; }

    /// <summary>True when this came from a JOINED snapshot (the changes are against the state before it).</summary>
    public bool IsSnapshot { get; }

    /// <summary>Connections that joined.</summary>
    public IReadOnlyList<Member> Joined { get; }

    /// <summary>Connections that left (with their last meta).</summary>
    public IReadOnlyList<Member> Left { get; }

    /// <summary>Connections whose meta changed (with the new meta).</summary>
    public IReadOnlyList<Member> Updated { get; }

    /// <summary>Users whose first connection in the room arrived.</summary>
    public IReadOnlyList<string> UsersOnline { get; }

    /// <summary>Users whose last connection in the room left.</summary>
    public IReadOnlyList<string> UsersOffline { get; }

    /// <summary>Connections in the room after the change.</summary>
    public long Total { get; }

    /// <summary>True when nothing changed.</summary>
    public bool IsEmpty => Joined.Count == 0 && Left.Count == 0 && Updated.Count == 0;
}
