using System;

namespace PresenceD.Client;

/// <summary>
/// A request was refused by the client before anything was sent, because the server would refuse it: a frame over
/// WELCOME's max_frame (the server would close the connection with GOAWAY PROTOCOL), or a name or meta over
/// <see cref="PresenceClientOptions.NameMax"/> or <see cref="PresenceClientOptions.MetaMax"/>. The connection is untouched.
/// </summary>
public sealed class PresenceTooLargeException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public PresenceTooLargeException(string paramName, string limit, long maxBytes, long actualBytes)
        : base($"{actualBytes} bytes is over {limit} ({maxBytes} bytes); nothing was sent", paramName)
    {
        Limit = limit;
        MaxBytes = maxBytes;
        ActualBytes = actualBytes;
    }

    /// <summary>Creates the exception.</summary>
    public PresenceTooLargeException() : this("value", "max_frame", 0, 0) { }

    /// <summary>Creates the exception.</summary>
    public PresenceTooLargeException(string message) : base(message) => Limit = "";

    /// <summary>Creates the exception.</summary>
    public PresenceTooLargeException(string message, Exception innerException) : base(message, innerException) => Limit = "";

    /// <summary>The limit, named as in presenced.conf: <c>max_frame</c>, <c>name_max</c> or <c>meta_max</c>.</summary>
    public string Limit { get; }

    /// <summary>The limit's value in bytes.</summary>
    public long MaxBytes { get; }

    /// <summary>The size that was refused, in bytes (for max_frame: the frame body).</summary>
    public long ActualBytes { get; }
}
