namespace PresenceD.Client;

/// <summary>Where a <see cref="PresenceClient"/> is in its life.</summary>
public enum ConnectionState
{
    /// <summary>Not connected, and not trying to be (before ConnectAsync, or after a failure that stops reconnecting).</summary>
    Disconnected,
    /// <summary>ConnectAsync is opening the socket and saying HELLO.</summary>
    Connecting,
    /// <summary>Welcomed by the server; requests can be made.</summary>
    Connected,
    /// <summary>The connection was lost; the client is waiting out its back-off or re-joining its rooms.</summary>
    Reconnecting,
    /// <summary>Closed by the application; final.</summary>
    Closed,
}
