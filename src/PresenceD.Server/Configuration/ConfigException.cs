namespace PresenceD.Server.Configuration;

/// <summary>A configuration error; the message names where the bad value came from.</summary>
internal sealed class ConfigException : Exception
{
    public ConfigException(string message)
        : base(message)
    {
    }

    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
