using System;

namespace PresenceD.Client;

/// <summary>
/// The TLS handshake failed for a reason a retry does not fix: the server's certificate is not trusted, is expired or
/// is for another name, the CA file cannot be read, or the server does not speak TLS on that port. Connecting throws it
/// and reconnecting stops on it (<see cref="ConnectionStateChangedEventArgs.Reason"/>). The message says which, without
/// secrets.
/// </summary>
public sealed class PresenceTlsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PresenceTlsException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public PresenceTlsException(string message, Exception? innerException) : base(message, innerException) { }
}
