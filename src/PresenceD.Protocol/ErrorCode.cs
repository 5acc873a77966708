namespace PresenceD.Protocol;

/// <summary>Error codes of PROTOCOL.md, used in ERROR and GOAWAY.</summary>
public enum ErrorCode : byte
{
    /// <summary>No error.</summary>
    None = 0,
    /// <summary>Malformed frame, unknown op, wrong types, HELLO missing or repeated, frame over max_frame. Closes.</summary>
    Protocol = 1,
    /// <summary>Unsupported protocol version. Closes.</summary>
    Version = 2,
    /// <summary>Credential missing, invalid or expired. Closes.</summary>
    Auth = 3,
    /// <summary>The credential does not allow this room.</summary>
    Forbidden = 4,
    /// <summary>PUBLISH/UPDATE/LEAVE for a room this connection has not joined.</summary>
    NotJoined = 5,
    /// <summary>Meta, room or user name over its limit.</summary>
    TooLarge = 6,
    /// <summary>Too many rooms for this connection, or the server is full.</summary>
    Limit = 7,
    /// <summary>Rate limit exceeded.</summary>
    Rate = 8,
    /// <summary>The backplane is unavailable: the message reached this node's members only.</summary>
    Degraded = 9,
    /// <summary>Server fault; the request did not take effect.</summary>
    Internal = 10,
    /// <summary>A field is well-typed but invalid.</summary>
    BadRequest = 11,
    /// <summary>GOAWAY when the server drains.</summary>
    Shutdown = 12,
    /// <summary>GOAWAY when the client does not read fast enough.</summary>
    SlowConsumer = 13,
    /// <summary>GOAWAY when HELLO did not arrive in time, or on heartbeat timeout.</summary>
    Timeout = 14,
    /// <summary>GOAWAY to a connection whose session a HELLO with its resume token took over on another connection.</summary>
    Superseded = 15,
}
