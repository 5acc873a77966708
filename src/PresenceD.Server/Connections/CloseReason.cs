namespace PresenceD.Server.Connections;

/// <summary>Every way a connection can end. Logged once per close and counted in metrics by name.</summary>
internal enum CloseReason
{
    /// <summary>The peer closed its side (EOF) without BYE.</summary>
    ClientClosed,
    /// <summary>The peer sent BYE.</summary>
    Bye,
    /// <summary>The socket failed (reset, broken pipe).</summary>
    SocketError,
    /// <summary>A malformed frame, unknown op, or HELLO missing or repeated.</summary>
    ProtocolError,
    /// <summary>A client frame declared a length over max_frame.</summary>
    FrameTooLarge,
    /// <summary>HELLO asked for a version this server does not speak.</summary>
    VersionMismatch,
    /// <summary>HELLO's credential was refused.</summary>
    AuthFailed,
    /// <summary>HELLO's user id was empty, too long or not a valid name.</summary>
    InvalidHello,
    /// <summary>The token expired while connected.</summary>
    TokenExpired,
    /// <summary>HELLO did not arrive within hello_timeout.</summary>
    HelloTimeout,
    /// <summary>No complete frame arrived within heartbeat_timeout, and none had started.</summary>
    HeartbeatTimeout,
    /// <summary>A frame that had started was still unfinished at frame_timeout (or at heartbeat_timeout since the last complete frame).</summary>
    FrameTimeout,
    /// <summary>Queued outbound bytes exceeded send_queue_limit.</summary>
    SlowConsumer,
    /// <summary>max_connections reached at accept.</summary>
    ServerFull,
    /// <summary>The server is draining (SIGTERM/SIGINT).</summary>
    ServerShutdown,
    /// <summary>A bug: an unexpected exception while serving the connection.</summary>
    InternalError,
    /// <summary>A HELLO with this connection's resume token arrived on another connection, which took the session over.</summary>
    Superseded,
    /// <summary>The TLS handshake failed (a certificate the client refused, not TLS, a version below tls_min_version), or did not finish within hello_timeout.</summary>
    TlsHandshakeFailed,
    /// <summary>A plain (not TLS) connection reached a port with tls on.</summary>
    TlsRequired,
    /// <summary>A TLS handshake reached a port with tls off (its ClientHello read as a frame header).</summary>
    TlsOnPlainPort,
}
