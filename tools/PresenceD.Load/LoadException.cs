namespace PresenceD.Load;

/// <summary>A run could not go on (server unreachable, setup incomplete); the message is shown to the operator.</summary>
internal sealed class LoadException : Exception
{
    public LoadException()
    {
    }

    public LoadException(string message) : base(message)
    {
    }

    public LoadException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
