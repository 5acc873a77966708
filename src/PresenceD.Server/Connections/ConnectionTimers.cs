using PresenceD.Server.Expiry;

namespace PresenceD.Server.Connections;

/// <summary>Hello and heartbeat deadline: fires, then the connection checks its last-seen stamp and re-arms lazily.</summary>
internal sealed class LivenessTimer(Connection connection) : WheelTimer
{
    protected internal override void OnExpired(long nowMs) => connection.OnLivenessTimer(nowMs);
}

/// <summary>JWT expiry: GOAWAY(AUTH) when the token runs out while connected.</summary>
internal sealed class TokenExpiryTimer(Connection connection) : WheelTimer
{
    protected internal override void OnExpired(long nowMs) => connection.RequestClose(CloseReason.TokenExpired);
}

/// <summary>Bounds how long a closing connection may take to flush its last frames (GOAWAY) before the socket is cut.</summary>
internal sealed class CloseDeadlineTimer(Connection connection) : WheelTimer
{
    protected internal override void OnExpired(long nowMs) => connection.Abort();
}
