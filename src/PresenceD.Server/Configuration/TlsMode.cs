namespace PresenceD.Server.Configuration;

/// <summary>Whether the client port speaks TLS (<c>tls</c>).</summary>
internal enum TlsMode
{
    /// <summary>Plain TCP.</summary>
    Off,

    /// <summary>TLS only: every connection starts with a TLS handshake.</summary>
    On,

    /// <summary>TLS or plain TCP, told apart by the connection's first byte (0x16 starts a TLS handshake).</summary>
    Optional,
}
