namespace PresenceD.Protocol;

/// <summary>Fixed numbers of the wire contract (the tunable limits are server settings).</summary>
public static class ProtocolConstants
{
    /// <summary>The protocol version this codec speaks.</summary>
    public const int Version = 1;

    /// <summary>Bytes of the big-endian length prefix.</summary>
    public const int LengthPrefixSize = 4;

    /// <summary>Default max_frame: the largest client frame body the server accepts.</summary>
    public const int DefaultMaxFrame = 65536;

    /// <summary>The largest server frame body a client must accept; the server never sends larger.</summary>
    public const int MaxServerFrame = 16 * 1024 * 1024;

    /// <summary>Deepest nesting the reader skips through before calling the input hostile.</summary>
    public const int MaxSkipDepth = 32;
}
