namespace PresenceD.Client;

/// <summary>Which thread raises the client's events. Events are always raised one at a time, in arrival order.</summary>
public enum EventDispatchMode
{
    /// <summary>A background task raises events as they arrive; a slow handler delays later events, never the socket.</summary>
    Background,
    /// <summary>
    /// Events wait in a queue until the application calls <see cref="PresenceClient.DispatchEvents"/>, e.g. once per
    /// frame from a game loop's main thread (Unity's Update).
    /// </summary>
    Manual,
}
