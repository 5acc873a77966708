using PresenceD.Protocol;
using PresenceD.Server.Configuration;

namespace PresenceD.Server.Connections;

/// <summary>What each close reason tells the client: the GOAWAY code, its text and the reconnect hint.</summary>
internal static class CloseReasons
{
    /// <summary>
    /// How long a closing connection may take to flush its GOAWAY before the socket is cut. Not a setting: the
    /// frames left are a few bytes, so a client that cannot take them in 2 s is gone; it only bounds how long a
    /// dead peer holds a descriptor.
    /// </summary>
    public const long FlushDeadlineMs = 2000;

    public static (ErrorCode Code, string Message, long ReconnectMs) GoAwayFor(CloseReason reason, ServerOptions options) => reason switch
    {
        CloseReason.ProtocolError => (ErrorCode.Protocol, "protocol error", 0),
        CloseReason.FrameTooLarge => (ErrorCode.Protocol, "frame over max_frame", 0),
        CloseReason.VersionMismatch => (ErrorCode.Version, "unsupported protocol version", 0),
        CloseReason.AuthFailed => (ErrorCode.Auth, "authentication failed", 0),
        CloseReason.InvalidHello => (ErrorCode.BadRequest, "invalid hello", 0),
        CloseReason.TokenExpired => (ErrorCode.Auth, "token expired", 0),
        CloseReason.HelloTimeout => (ErrorCode.Timeout, "hello timeout", 0),
        CloseReason.HeartbeatTimeout => (ErrorCode.Timeout, "heartbeat timeout", 0),
        CloseReason.FrameTimeout => (ErrorCode.Timeout, "frame timeout", 0),
        CloseReason.SlowConsumer => (ErrorCode.SlowConsumer, "send queue over send_queue_limit", 0),
        CloseReason.ServerFull => (ErrorCode.Limit, "server full", Jitter(1000, 5000)),
        CloseReason.ServerShutdown => (ErrorCode.Shutdown, "server shutting down", Jitter(500, Math.Max(1000, (long)options.DrainTimeout.TotalMilliseconds))),
        CloseReason.InternalError => (ErrorCode.Internal, "internal error", Jitter(500, 2000)),
        CloseReason.Superseded => (ErrorCode.Superseded, "session resumed on another connection", 0),
        CloseReason.TlsRequired => (ErrorCode.Protocol, "this port requires TLS", 0),
        CloseReason.TlsOnPlainPort => (ErrorCode.Protocol, "this port does not speak TLS", 0),
        _ => (ErrorCode.None, "", 0),
    };

    /// <summary>
    /// The ends a resumable session survives, suspended: the network went away (end of stream, a broken socket, silence,
    /// a frame cut off) or the client came back on another connection. Every other close is the client's choice (BYE)
    /// or the server's (protocol, limits, auth, drain), and ends the session at once.
    /// </summary>
    public static bool Suspends(CloseReason reason) =>
        reason is CloseReason.ClientClosed or CloseReason.SocketError or CloseReason.HeartbeatTimeout or CloseReason.FrameTimeout or CloseReason.Superseded;

    /// <summary>A reconnect hint spread over [min, max) so clients do not all return at once.</summary>
    public static long Jitter(long min, long max) => Random.Shared.NextInt64(min, max);
}
