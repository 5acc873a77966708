using System;

namespace PresenceD.Client;

/// <summary>The client's <see cref="ConnectionState"/> changed.</summary>
public sealed class ConnectionStateChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public ConnectionStateChangedEventArgs(ConnectionState previous, ConnectionState current, Exception? reason)
        : this(previous, current, reason, resumed: false)
    {
    }

    /// <summary>Creates the event data of a change that may be a resume.</summary>
    public ConnectionStateChangedEventArgs(ConnectionState previous, ConnectionState current, Exception? reason, bool resumed)
    {
        Previous = previous;
        Current = current;
        Reason = reason;
        Resumed = resumed;
    }

    /// <summary>
    /// True on the change from Reconnecting to Connected when the server resumed the session: the rooms, their
    /// presence models and the connection id are as they were, the messages sent meanwhile follow, and no
    /// <see cref="PresenceClient.RoomRejoined"/> event comes.
    /// </summary>
    public bool Resumed { get; }

    /// <summary>The state before.</summary>
    public ConnectionState Previous { get; }

    /// <summary>The state now.</summary>
    public ConnectionState Current { get; }

    /// <summary>Why the connection was lost or could not be made, when that is the change.</summary>
    public Exception? Reason { get; }
}
