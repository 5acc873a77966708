namespace PresenceD.Server.History;

/// <summary>
/// Receives one held frame during <see cref="RoomHistory.TryReplay{TState}"/>. The memory is the
/// history's pooled storage and is valid only during the call: copy it, do not keep it.
/// </summary>
internal delegate void HistoryFrameVisitor<in TState>(TState state, ReadOnlyMemory<byte> frame);
