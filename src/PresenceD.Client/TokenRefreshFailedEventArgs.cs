using System;

namespace PresenceD.Client;

/// <summary>
/// An automatic token refresh failed: the token provider threw, or the server refused the token it gave. The session
/// still runs on its old token, until that token's exp.
/// </summary>
public sealed class TokenRefreshFailedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public TokenRefreshFailedEventArgs(Exception error, long exp, bool willRetry)
    {
        Error = error;
        Exp = exp;
        WillRetry = willRetry;
    }

    /// <summary>
    /// Why: the provider's exception, a <see cref="PresenceRequestException"/> (AUTH: the server refused the token;
    /// FORBIDDEN: it is another user's), a <see cref="TimeoutException"/> or a <see cref="PresenceConnectionException"/>.
    /// </summary>
    public Exception Error { get; }

    /// <summary>The exp claim of the token the session still runs on (seconds since 1970-01-01 UTC; 0 when unknown).</summary>
    public long Exp { get; }

    /// <summary>
    /// True when the client tries again by itself, once half of the time left until <see cref="Exp"/> has passed. False
    /// when less than 2 s are left: the server then ends the session at exp (GOAWAY AUTH) and the client reconnects
    /// with a token from the provider.
    /// </summary>
    public bool WillRetry { get; }
}
