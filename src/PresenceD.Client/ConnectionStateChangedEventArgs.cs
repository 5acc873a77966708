using System;

namespace PresenceD.Client;

/// <summary>The client's <see cref="ConnectionState"/> changed.</summary>
public sealed class ConnectionStateChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public ConnectionStateChangedEventArgs(ConnectionState previous, ConnectionState current, Exception? reason)
    {
        Previous = previous;
        Current = current;
        Reason = reason;
    }

    /// <summary>The state before.</summary>
    public ConnectionState Previous { get; }

    /// <summary>The state now.</summary>
    public ConnectionState Current { get; }

    /// <summary>Why the connection was lost or could not be made, when that is the change.</summary>
    public Exception? Reason { get; }
}
