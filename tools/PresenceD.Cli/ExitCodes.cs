namespace PresenceD.Cli;

/// <summary>presence-cli's exit codes (scripts rely on them).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Bad arguments.</summary>
    public const int Usage = 1;

    /// <summary>The server could not be reached, or the connection was lost.</summary>
    public const int Unreachable = 2;

    /// <summary>The server refused: an ERROR reply or a GOAWAY (AUTH, FORBIDDEN, NOT_JOINED, ...).</summary>
    public const int Refused = 3;

    /// <summary>No reply in time.</summary>
    public const int Timeout = 4;

    /// <summary>The TLS handshake failed: the server's certificate was refused (untrusted, expired, another name), or the server does not speak TLS there.</summary>
    public const int Tls = 5;
}
