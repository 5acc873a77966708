using System;

namespace PresenceD.Client;

/// <summary>
/// The client has no usable connection: connecting failed, the connection was lost while a request was
/// outstanding, or the client is not connected (or is reconnecting) when a request is made.
/// </summary>
public sealed class PresenceConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PresenceConnectionException() : base("not connected") { }

    /// <summary>Creates the exception.</summary>
    public PresenceConnectionException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public PresenceConnectionException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a connection the server ended with GOAWAY.</summary>
    public PresenceConnectionException(string message, ErrorCode goAwayCode, string goAwayText, Exception? innerException = null)
        : base(message, innerException)
    {
        GoAwayCode = goAwayCode;
        GoAwayText = goAwayText;
    }

    /// <summary>The GOAWAY code when the server closed the connection with one; else <see cref="ErrorCode.None"/>.</summary>
    public ErrorCode GoAwayCode { get; }

    /// <summary>The GOAWAY's text (e.g. "token expired") when the server closed the connection with one; else empty.</summary>
    public string GoAwayText { get; } = "";
}
