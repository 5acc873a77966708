using PresenceD.Protocol;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Dispatch.Auth;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>HELLO: version, credential (user id or JWT), then WELCOME; any failure is ERROR + GOAWAY + close.</summary>
internal sealed partial class Dispatcher
{
    private void Hello(Session session, ref ClientRequest request, SendBatch batch)
    {
        Connection connection = session.Connection;
        ServerOptions options = Options;
        uint rid = request.Rid;
        if (request.Version != ProtocolConstants.Version)
        {
            RefuseHello(connection, rid, ErrorCode.Version, CloseReason.VersionMismatch, $"protocol version {request.Version} is not supported (1 is)", batch);
            return;
        }
        if (!request.HasCredential)
        {
            RefuseHello(connection, rid, ErrorCode.Auth, CloseReason.AuthFailed, "credential missing", batch);
            return;
        }
        string user;
        string[]? allowedRooms = null;
        string[]? see = null;
        long expiresAtMs = 0;
        if (_jwt is null)
        {
            ErrorCode check = NameRules.Check(request.Credential, options.NameMax);
            if (check != ErrorCode.None)
            {
                RefuseHello(connection, rid, check, CloseReason.InvalidHello, check == ErrorCode.TooLarge ? "user id too long" : "invalid user id", batch);
                return;
            }
            user = Utf8.GetString(request.Credential);
        }
        else
        {
            long nowUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            JwtClaims? claims = _jwt.Verify(Utf8.GetString(request.Credential), nowUnix, (long)options.JwtLeeway.TotalSeconds, out string error);
            if (claims is null)
            {
                RefuseHello(connection, rid, ErrorCode.Auth, CloseReason.AuthFailed, error, batch);
                return;
            }
            if (NameRules.Check(System.Text.Encoding.UTF8.GetBytes(claims.Subject), options.NameMax) != ErrorCode.None)
            {
                RefuseHello(connection, rid, ErrorCode.Auth, CloseReason.AuthFailed, "sub is not a valid user id", batch);
                return;
            }
            user = claims.Subject;
            allowedRooms = claims.Rooms;
            see = claims.See;
            expiresAtMs = _clock.NowMs + (claims.ExpiresAtUnixSeconds + (long)options.JwtLeeway.TotalSeconds - nowUnix) * 1000;
        }

        session.User = _online.Add(user);
        session.ConnId = _connIds.Next();
        session.ClientName = ClientNames.Canonical(request.ClientName);
        session.AllowedRooms = allowedRooms;
        session.Visibility = UserVisibility.For(options.OnlineVisibility, see);
        session.HelloDone = true;
        Backplane.SessionStarted(session.User, session.ConnId);
        connection.OnHelloDone();
        if (expiresAtMs != 0) connection.ScheduleTokenExpiry(expiresAtMs);
        var welcome = (rid, user, conn: session.ConnId, node: _connIds.NodeId, hb: (long)options.HeartbeatInterval.TotalMilliseconds,
            timeout: (long)options.HeartbeatTimeout.TotalMilliseconds, maxFrame: options.MaxFrame);
        connection.Reply(welcome, static (output, w) => ServerFrames.Welcome(output, w.rid, w.user, w.conn, w.node, w.hb, w.timeout, w.maxFrame), batch);
    }

    private void RefuseHello(Connection connection, uint rid, ErrorCode code, CloseReason reason, string message, SendBatch batch)
    {
        Error(connection, rid, code, message, batch);
        connection.RequestClose(reason, message, code);
    }
}
