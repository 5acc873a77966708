namespace PresenceD.Protocol;

/// <summary>Op codes of PROTOCOL.md: 1..11 client to server, 64..75 server to client.</summary>
public enum OpCode : byte
{
    /// <summary>First client frame: version and credential.</summary>
    Hello = 1,
    /// <summary>Join a room (meta, since, will).</summary>
    Join = 2,
    /// <summary>Leave a room.</summary>
    Leave = 3,
    /// <summary>Publish a payload to a joined room.</summary>
    Publish = 4,
    /// <summary>Change this connection's meta in a room.</summary>
    Update = 5,
    /// <summary>Ask for a room's members.</summary>
    Presence = 6,
    /// <summary>Ask for a room's connection and user counts.</summary>
    Count = 7,
    /// <summary>Heartbeat.</summary>
    Ping = 8,
    /// <summary>Orderly goodbye: presence removed at once, wills discarded.</summary>
    Bye = 9,
    /// <summary>Which of these users are online anywhere.</summary>
    Online = 10,
    /// <summary>A new JWT for the session's user (sent only to a server whose WELCOME announced <see cref="ProtocolFeatures.Refresh"/>).</summary>
    Refresh = 11,

    /// <summary>Reply to HELLO.</summary>
    Welcome = 64,
    /// <summary>Generic success reply.</summary>
    Ok = 65,
    /// <summary>Error reply or connection-level error.</summary>
    Error = 66,
    /// <summary>Reply to JOIN with a snapshot.</summary>
    Joined = 67,
    /// <summary>Reply to PRESENCE.</summary>
    PresenceState = 68,
    /// <summary>Joins and leaves of a room.</summary>
    PresenceDiff = 69,
    /// <summary>A published payload.</summary>
    Message = 70,
    /// <summary>Reply to COUNT.</summary>
    CountState = 71,
    /// <summary>Reply to PING.</summary>
    Pong = 72,
    /// <summary>The server is about to close the connection.</summary>
    GoAway = 73,
    /// <summary>Reply to ONLINE.</summary>
    OnlineState = 74,
    /// <summary>Reply to REFRESH: the new expiry and the rooms the new token no longer allows.</summary>
    Refreshed = 75,
}
