using System;

namespace PresenceD.Client;

/// <summary>The server answered a request with ERROR (or refused HELLO); <see cref="Code"/> says why.</summary>
public sealed class PresenceRequestException : Exception
{
    /// <summary>Creates the exception for an ERROR reply.</summary>
    public PresenceRequestException(ErrorCode code, string serverMessage)
        : base($"server error {code} ({(int)code}): {serverMessage}")
    {
        Code = code;
        ServerMessage = serverMessage;
    }

    /// <summary>Creates the exception.</summary>
    public PresenceRequestException() : this(ErrorCode.Internal, "unknown error") { }

    /// <summary>Creates the exception.</summary>
    public PresenceRequestException(string message) : base(message) => ServerMessage = message;

    /// <summary>Creates the exception.</summary>
    public PresenceRequestException(string message, Exception innerException) : base(message, innerException) => ServerMessage = message;

    /// <summary>The error code from the server.</summary>
    public ErrorCode Code { get; }

    /// <summary>The server's human-readable text.</summary>
    public string ServerMessage { get; }
}
