using Microsoft.Extensions.Logging;
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
/// REFRESH: a new JWT for the session's own user. Accepted, it replaces the session's rooms and see claims and its
/// expiry, and the rooms the new token does not allow are left as by LEAVE (leave diffs, wills discarded). Refused
/// (auth none, a token HELLO would refuse, another user's token), it changes nothing: the session runs on the token
/// it had. Either way the connection stays open.
/// </summary>
internal sealed partial class Dispatcher
{
    private void Refresh(Session session, ref ClientRequest request, SendBatch batch)
    {
        Connection connection = session.Connection;
        uint rid = request.Rid;
        if (_jwt is null)
        {
            RefuseRefresh(session, rid, ErrorCode.BadRequest, "REFRESH needs auth jwt (this server runs auth none)", batch);
            return;
        }
        ServerOptions options = Options;
        long nowUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long leeway = (long)options.JwtLeeway.TotalSeconds;
        JwtClaims? claims = _jwt.Verify(Utf8.GetString(request.Credential), nowUnix, leeway, out string error);
        if (claims is null)
        {
            RefuseRefresh(session, rid, ErrorCode.Auth, error, batch);
            return;
        }
        if (!string.Equals(claims.Subject, session.User, StringComparison.Ordinal))
        {
            RefuseRefresh(session, rid, ErrorCode.Forbidden, "the token is for another user", batch);
            return;
        }
        long expiresAtMs = _clock.NowMs + (claims.ExpiresAtUnixSeconds + leeway - nowUnix) * 1000;
        List<string>? left = null;
        lock (session.Sync)
        {
            if (session.Ended) return;
            session.AllowedRooms = claims.Rooms;
            session.Visibility = UserVisibility.For(options.OnlineVisibility, claims.See);
            foreach (RoomMember member in session.Rooms)
            {
                if (session.MayAccess(member.Room.Name)) continue;
                (left ??= []).Add(member.Room.Name);
                _hub.Leave(member, deliverWill: false, batch);
                session.RemoveRoom(member);
            }
            // Moves the running deadline (the wheel re-arms a scheduled timer): the old exp no longer ends the session.
            connection.ScheduleTokenExpiry(expiresAtMs);
        }
        Counters.CountRefresh(ok: true);
        _logger.LogInformation("conn {Conn} user {User} refreshed its token: expires in {ExpiresInSeconds} s, left {Left} rooms",
            session.ConnId, session.User, claims.ExpiresAtUnixSeconds - nowUnix, left?.Count ?? 0);
        connection.Reply(new Refreshed(rid, claims.ExpiresAtUnixSeconds, left), Refreshed.Write, batch);
    }

    private void RefuseRefresh(Session session, uint rid, ErrorCode code, string why, SendBatch batch)
    {
        Counters.CountRefresh(ok: false);
        _logger.LogInformation("conn {Conn} user {User} token refresh refused ({Code}): {Why}; the session keeps its token",
            session.ConnId, session.User, code, why);
        Error(session.Connection, rid, code, why, batch);
    }

    private readonly record struct Refreshed(uint Rid, long Exp, List<string>? Left)
    {
        public static readonly Action<Protocol.Framing.FrameBuffer, Refreshed> Write = static (output, r) =>
        {
            MessagePackWriter w = ServerFrames.BeginRefreshed(output, r.Rid, r.Exp, r.Left?.Count ?? 0, out int start);
            if (r.Left is not null)
            {
                foreach (string room in r.Left) w.WriteString(room);
            }
            ServerFrames.EndFrame(output, ref w, start);
        };
    }
}
