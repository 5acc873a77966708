using PresenceD.Protocol;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Connections;
using PresenceD.Server.Dispatch.Auth;
using PresenceD.Server.Rooms;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Dispatch;

/// <summary>
/// HELLO: version, credential (user id or JWT), then WELCOME; any failure is ERROR + GOAWAY + close. A HELLO that
/// carries a resume token resumes that session when it can (ResumeHandler.cs), else gets a fresh one: a resume is
/// never refused.
/// </summary>
internal sealed partial class Dispatcher
{
    private ValueTask Hello(Session session, ref ClientRequest request, SendBatch batch)
    {
        Connection connection = session.Connection;
        ServerOptions options = Options;
        uint rid = request.Rid;
        if (request.Version != ProtocolConstants.Version)
        {
            RefuseHello(connection, rid, ErrorCode.Version, CloseReason.VersionMismatch, $"protocol version {request.Version} is not supported (1 is)", batch);
            return default;
        }
        if (!request.HasCredential)
        {
            RefuseHello(connection, rid, ErrorCode.Auth, CloseReason.AuthFailed, "credential missing", batch);
            return default;
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
                return default;
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
                return default;
            }
            if (NameRules.Check(System.Text.Encoding.UTF8.GetBytes(claims.Subject), options.NameMax) != ErrorCode.None)
            {
                RefuseHello(connection, rid, ErrorCode.Auth, CloseReason.AuthFailed, "sub is not a valid user id", batch);
                return default;
            }
            user = claims.Subject;
            allowedRooms = claims.Rooms;
            see = claims.See;
            expiresAtMs = _clock.NowMs + (claims.ExpiresAtUnixSeconds + (long)options.JwtLeeway.TotalSeconds - nowUnix) * 1000;
        }

        long windowMs = (long)options.ResumeWindow.TotalMilliseconds;
        bool resumable = request.HasResume && windowMs > 0;
        session.ClientName = ClientNames.Canonical(request.ClientName);
        session.AllowedRooms = allowedRooms;
        session.Visibility = UserVisibility.For(options.OnlineVisibility, see);
        if (resumable) connection.EnableResume(options.ResumeBuffer);
        // The token is a str of at most max_frame bytes; one that is not valid UTF-8 names no session either.
        uint? features = request.HasFeatures ? request.Features : null;
        bool writeResumable = request.HasResume || request.HasFeatures;
        if (resumable && request.ResumeToken.Length > 0)
        {
            string resumeToken = Utf8.GetString(request.ResumeToken);
            if (TryResume(session, resumeToken, user, rid, windowMs, features, batch))
            {
                connection.OnHelloDone();
                if (expiresAtMs != 0) connection.ScheduleTokenExpiry(expiresAtMs);
                return default;
            }
            // A session of another node (the load balancer sent the client elsewhere): that node hands it over.
            string node = ResumeTokens.NodeOf(resumeToken);
            if (node.Length > 0 && node != _connIds.NodeId && Backplane.SessionLink is { } link)
            {
                return HelloFromNodeAsync(link, node, session, resumeToken, user, rid, windowMs, features, expiresAtMs, writeResumable);
            }
        }
        StartSession(session, user, rid, resumable, windowMs, features, expiresAtMs, writeResumable, batch);
        return default;
    }

    /// <summary>A HELLO whose token names another node: resumed from there, or else a fresh session, as for any token that resumes nothing.</summary>
    private async ValueTask HelloFromNodeAsync(ISessionLink link, string node, Session session, string token, string user, uint rid, long windowMs, uint? features,
        long expiresAtMs, bool writeResumable)
    {
        Connection connection = session.Connection;
        if (await TryResumeFromNodeAsync(link, node, session, token, user, rid, windowMs, features).ConfigureAwait(false))
        {
            connection.OnHelloDone();
            if (expiresAtMs != 0) connection.ScheduleTokenExpiry(expiresAtMs);
            return;
        }
        using SendBatch batch = SendBatch.Open();
        // Under the session's lock: a connection that closed while it waited has ended, and must not start a session now.
        lock (session.Sync)
        {
            if (session.Ended) return;
            StartSession(session, user, rid, resumable: true, windowMs, features, expiresAtMs, writeResumable, batch);
        }
    }

    /// <summary>A fresh session: a new conn id (and resume token when resumable), online, then WELCOME.</summary>
    private void StartSession(Session session, string user, uint rid, bool resumable, long windowMs, uint? features, long expiresAtMs, bool writeResumable, SendBatch batch)
    {
        Connection connection = session.Connection;
        session.User = _online.Add(user);
        session.ConnId = _connIds.Next();
        string token = "";
        if (resumable)
        {
            token = ResumeTokens.New(_connIds.NodeId);
            _resumable.Register(session, token);
        }
        session.HelloDone = true;
        Backplane.SessionStarted(session.User, session.ConnId);
        connection.OnHelloDone();
        if (expiresAtMs != 0) connection.ScheduleTokenExpiry(expiresAtMs);
        Welcome welcome = NewWelcome(rid, session, token, resumable ? windowMs : 0, resumed: false, features);
        if (writeResumable) connection.Reply(welcome, Welcome.WriteResumable, batch);
        else connection.Reply(welcome, Welcome.Write, batch);
    }

    /// <summary>WELCOME for this session; <paramref name="asked"/> is HELLO's features (null: none sent), answered with those this server knows too.</summary>
    /// <remarks><paramref name="left"/>: the rooms a resume left because the new token does not allow them (null: none).</remarks>
    private Welcome NewWelcome(uint rid, Session session, string token, long windowMs, bool resumed, uint? asked, List<string>? left = null)
    {
        ServerOptions options = Options;
        return new Welcome(rid, session.User, session.ConnId, _connIds.NodeId, (long)options.HeartbeatInterval.TotalMilliseconds,
            (long)options.HeartbeatTimeout.TotalMilliseconds, options.MaxFrame, token, windowMs, resumed, asked & ProtocolFeatures.All, left);
    }

    private void RefuseHello(Connection connection, uint rid, ErrorCode code, CloseReason reason, string message, SendBatch batch)
    {
        Error(connection, rid, code, message, batch);
        connection.RequestClose(reason, message, code);
    }

    /// <summary>
    /// WELCOME's fields: the eight of version 1, the resume fields sent when HELLO asked for a resumable session or sent
    /// features, the features (null: HELLO sent none, and WELCOME has no twelfth element unless a thirteenth follows),
    /// and the rooms a resume left (null: none, and no thirteenth element).
    /// </summary>
    private readonly record struct Welcome(uint Rid, string User, string Conn, string Node, long HeartbeatMs, long TimeoutMs, int MaxFrame,
        string ResumeToken, long ResumeWindowMs, bool Resumed, uint? Features, List<string>? Left)
    {
        public static readonly Action<Protocol.Framing.FrameBuffer, Welcome> Write = static (output, w) =>
            ServerFrames.Welcome(output, w.Rid, w.User, w.Conn, w.Node, w.HeartbeatMs, w.TimeoutMs, w.MaxFrame);

        public static readonly Action<Protocol.Framing.FrameBuffer, Welcome> WriteResumable = static (output, w) =>
            ServerFrames.Welcome(output, w.Rid, w.User, w.Conn, w.Node, w.HeartbeatMs, w.TimeoutMs, w.MaxFrame, w.ResumeToken, w.ResumeWindowMs, w.Resumed, w.Features, w.Left);
    }
}
