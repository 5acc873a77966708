using System;

namespace PresenceD.Protocol;

/// <summary>
/// The only exception the codec throws: the input is malformed (wrong type, truncated value, length
/// beyond the input, trailing bytes, nesting too deep). "Need more bytes" is never an exception.
/// </summary>
public sealed class ProtocolException : Exception
{
    /// <summary>Creates the exception with the code to answer with (PROTOCOL unless stated).</summary>
    public ProtocolException(string message, ErrorCode code = ErrorCode.Protocol) : base(message) => Code = code;

    /// <summary>Creates the exception.</summary>
    public ProtocolException() : this("protocol error") { }

    /// <summary>Creates the exception.</summary>
    public ProtocolException(string message, Exception innerException) : base(message, innerException) => Code = ErrorCode.Protocol;

    /// <summary>The error code the server answers with.</summary>
    public ErrorCode Code { get; }
}
