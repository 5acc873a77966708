namespace PresenceD.Server.Rooms;

/// <summary>The backplane circuit breaker's state as exported in presenced_backplane_circuit_state.</summary>
internal enum BackplaneCircuitState
{
    /// <summary>Calls go through.</summary>
    Closed,
    /// <summary>A trial call decides whether to close again.</summary>
    HalfOpen,
    /// <summary>Calls fail fast; the node is degraded.</summary>
    Open,
}
