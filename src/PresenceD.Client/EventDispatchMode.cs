namespace PresenceD.Client;

/// <summary>
/// Which thread raises the client's events. In every mode events are raised one at a time, in arrival order, never on
/// the socket's receive loop, and at most <see cref="PresenceClientOptions.MaxPendingEvents"/> wait to be raised.
/// </summary>
public enum EventDispatchMode
{
    /// <summary>A background task raises events as they arrive; a slow handler delays later events, never the socket.</summary>
    Background,
    /// <summary>
    /// Events wait in a queue until the application calls <see cref="PresenceClient.DispatchEvents"/>, e.g. once per
    /// frame from a game loop's main thread (Unity's Update).
    /// </summary>
    Manual,
    /// <summary>
    /// Events are posted to a <see cref="System.Threading.SynchronizationContext"/>: <see cref="PresenceClientOptions.SynchronizationContext"/>,
    /// or else the one current when the <see cref="PresenceClient"/> is created (Unity's main thread, a WPF or WinForms UI thread).
    /// One post raises every event queued by then.
    /// </summary>
    SynchronizationContext,
}
