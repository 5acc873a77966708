using System;
using System.Collections.Generic;

namespace PresenceD.Protocol.Messages;

/// <summary>A member of a room: one connection of a user, with its meta (null when none).</summary>
public sealed record Member(string User, string Conn, byte[]? Meta);

/// <summary>A decoded server-to-client frame (client side; allocates, unlike <see cref="MessageView"/>).</summary>
public abstract record ServerMessage(OpCode Op);

/// <summary>
/// WELCOME; then its resume fields ("", 0 and false when the server sent none), its features (0 when the server sent
/// none: an older server, or a HELLO that asked for none) and the rooms a resume left because the new token does not
/// allow them (null when the server sent none).
/// </summary>
public sealed record WelcomeMessage(uint Rid, string User, string Conn, string Node, long HeartbeatMs, long TimeoutMs, long MaxFrame,
    string ResumeToken = "", long ResumeWindowMs = 0, bool Resumed = false, uint Features = 0, IReadOnlyList<string>? Left = null) : ServerMessage(OpCode.Welcome);

/// <summary>OK.</summary>
public sealed record OkMessage(uint Rid) : ServerMessage(OpCode.Ok);

/// <summary>ERROR.</summary>
public sealed record ErrorMessage(uint Rid, ErrorCode Code, string Text) : ServerMessage(OpCode.Error);

/// <summary>JOINED.</summary>
public sealed record JoinedMessage(uint Rid, string Room, string Epoch, ulong Offset, IReadOnlyList<Member> Members, bool Recovered, long Total) : ServerMessage(OpCode.Joined);

/// <summary>PRESENCE_STATE.</summary>
public sealed record PresenceStateMessage(uint Rid, string Room, IReadOnlyList<Member> Members, long Total) : ServerMessage(OpCode.PresenceState);

/// <summary>PRESENCE_DIFF.</summary>
public sealed record PresenceDiffMessage(string Room, IReadOnlyList<Member> Joins, IReadOnlyList<Member> Leaves) : ServerMessage(OpCode.PresenceDiff);

/// <summary>MESSAGE.</summary>
public sealed record RoomMessage(string Room, string FromUser, string FromConn, byte[] Payload, ulong Offset) : ServerMessage(OpCode.Message);

/// <summary>COUNT_STATE.</summary>
public sealed record CountStateMessage(uint Rid, string Room, long Connections, long Users) : ServerMessage(OpCode.CountState);

/// <summary>PONG.</summary>
public sealed record PongMessage(uint Rid) : ServerMessage(OpCode.Pong);

/// <summary>GOAWAY.</summary>
public sealed record GoAwayMessage(ErrorCode Code, string Text, long ReconnectMs) : ServerMessage(OpCode.GoAway);

/// <summary>ONLINE_STATE.</summary>
public sealed record OnlineStateMessage(uint Rid, IReadOnlyList<string> Online) : ServerMessage(OpCode.OnlineState);

/// <summary>REFRESHED: the session's new token expiry (seconds since 1970) and the rooms it left because the new token does not allow them.</summary>
public sealed record RefreshedMessage(uint Rid, long Exp, IReadOnlyList<string> Left) : ServerMessage(OpCode.Refreshed);
