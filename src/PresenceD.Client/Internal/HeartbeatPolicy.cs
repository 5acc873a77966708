using System;

namespace PresenceD.Client.Internal;

/// <summary>
/// When to PING and when to give up on a silent server, from WELCOME's heartbeat_ms and timeout_ms.
/// The client pings after half a heartbeat of sending nothing, so a ping is never late even when the
/// timer tick (a quarter heartbeat) lands just after the deadline.
/// </summary>
internal sealed class HeartbeatPolicy
{
    public HeartbeatPolicy(long heartbeatMs, long timeoutMs)
    {
        HeartbeatMs = Math.Max(heartbeatMs, 100);
        TimeoutMs = Math.Max(timeoutMs, HeartbeatMs);
    }

    public long HeartbeatMs { get; }

    public long TimeoutMs { get; }

    /// <summary>How often the client's timer should look.</summary>
    public TimeSpan TickInterval => TimeSpan.FromMilliseconds(Math.Max(25, Math.Min(HeartbeatMs / 4, 250)));

    public bool ShouldPing(long nowMs, long lastSentMs) => nowMs - lastSentMs >= HeartbeatMs / 2;

    /// <summary>The server sends PONG for every PING, so hearing nothing for timeout_ms means the connection is dead.</summary>
    public bool IsServerSilent(long nowMs, long lastReceivedMs) => nowMs - lastReceivedMs >= TimeoutMs;
}
