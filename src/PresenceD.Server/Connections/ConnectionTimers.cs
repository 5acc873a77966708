using PresenceD.Server.Expiry;

namespace PresenceD.Server.Connections;

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
