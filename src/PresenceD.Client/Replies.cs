using System.Collections.Generic;

namespace PresenceD.Client;

/// <summary>The server's WELCOME: who this connection is and the limits it must keep to.</summary>
/// <param name="User">The user id the server knows this connection by.</param>
/// <param name="Conn">This connection's id (as other members see it).</param>
/// <param name="Node">The server node that holds the connection.</param>
/// <param name="HeartbeatMs">How often the client pings when otherwise silent, in milliseconds.</param>
/// <param name="TimeoutMs">Silence after which either side counts the other as gone, in milliseconds.</param>
/// <param name="MaxFrame">The largest request frame body the server accepts, in bytes (the client refuses larger ones).</param>
/// <param name="ResumeWindowMs">How long the server keeps this session after the connection drops (0: not resumable).</param>
/// <param name="Resumed">True when this WELCOME resumed the session of the connection before.</param>
/// <param name="CanRefresh">True when the server takes new tokens on the open session (REFRESH, <see cref="PresenceClient.RefreshAsync"/>).</param>
/// <param name="LeftRooms">
/// With <see cref="Resumed"/>: the rooms the resumed session left because the token this HELLO sent no longer allows
/// them (the others saw them leave; their wills were discarded); empty when none.
/// </param>
public sealed record WelcomeMessage(string User, string Conn, string Node, long HeartbeatMs, long TimeoutMs, long MaxFrame,
    long ResumeWindowMs = 0, bool Resumed = false, bool CanRefresh = false, IReadOnlyList<string>? LeftRooms = null);

/// <summary>The server's REFRESHED: the session runs on the new token.</summary>
/// <param name="Exp">The new token's exp claim, in seconds since 1970-01-01 UTC: the server ends the session then.</param>
/// <param name="LeftRooms">Rooms the session left because the new token does not allow them (the others saw them leave; their wills were discarded).</param>
public sealed record RefreshedMessage(long Exp, IReadOnlyList<string> LeftRooms);

/// <summary>The server's JOINED: the room's presence snapshot and where its message history stands.</summary>
/// <param name="Room">The room.</param>
/// <param name="Epoch">The room's history epoch ("" when the room keeps no history).</param>
/// <param name="Offset">The offset of the room's last message.</param>
/// <param name="Members">The members listed (at most the server's presence_limit; the joiner is always listed).</param>
/// <param name="Recovered">True when the messages missed since the join's <c>since</c> are replayed after this.</param>
/// <param name="Total">The true number of connections in the room.</param>
public sealed record JoinedMessage(string Room, string Epoch, ulong Offset, IReadOnlyList<Member> Members, bool Recovered, long Total);

/// <summary>The server's PRESENCE_STATE: who is in a room.</summary>
/// <param name="Room">The room.</param>
/// <param name="Members">The members listed (at most the limit asked for, and the server's presence_limit).</param>
/// <param name="Total">The true number of connections in the room.</param>
public sealed record PresenceStateMessage(string Room, IReadOnlyList<Member> Members, long Total);

/// <summary>The server's COUNT_STATE: how many are in a room.</summary>
/// <param name="Room">The room.</param>
/// <param name="Connections">Connections in the room.</param>
/// <param name="Users">Distinct users in the room.</param>
public sealed record CountStateMessage(string Room, long Connections, long Users);
