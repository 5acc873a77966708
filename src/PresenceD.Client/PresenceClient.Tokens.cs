using System;
using System.Threading;
using System.Threading.Tasks;
using PresenceD.Client.Internal;
using PresenceD.Protocol.Messages;
using Wire = PresenceD.Protocol.Messages;

namespace PresenceD.Client;

// Tokens: the credential of the next HELLO, REFRESH on the open session, and the automatic refresh ahead of a
// token's exp with the application's token provider.
public sealed partial class PresenceClient
{
    // A refresh that failed is tried again only while at least this much of the token's life is left.
    private const long MinRetryLeftMs = 2000;
    // A refresh due while the client is welcomed but still re-joining its rooms looks again this much later.
    private const long RefreshRecheckMs = 100;

    private readonly Timer _refreshTimer;
    // The token a RefreshAsync got accepted: the next HELLO's credential when there is no provider (null: options.Credential).
    private volatile string? _credential;
    // exp of the token the session runs on (seconds since 1970; 0: unknown, not a JWT).
    private long _tokenExp;
    private int _autoRefreshing;

    /// <summary>The server accepted a new token (automatically, with the token provider, or by <see cref="RefreshAsync"/>).</summary>
    public event EventHandler<TokenRefreshedEventArgs>? TokenRefreshed;

    /// <summary>
    /// An automatic refresh failed (the provider threw, or the server refused its token); the session runs on its old
    /// token. <see cref="TokenRefreshFailedEventArgs.WillRetry"/> says whether the client tries again by itself.
    /// </summary>
    public event EventHandler<TokenRefreshFailedEventArgs>? TokenRefreshFailed;

    /// <summary>
    /// Sends <paramref name="token"/> (a new JWT for the same user) with REFRESH: the session continues with its exp and
    /// rooms claim, and the rooms it does not allow are left (returned, and gone from <see cref="JoinedRooms"/>). The token
    /// is also the credential of later reconnects (unless a <see cref="PresenceClientOptions.TokenProvider"/> gives them).
    /// Throws <see cref="PresenceRequestException"/> when the server refuses it (AUTH: invalid or expired; FORBIDDEN:
    /// another user's; BAD_REQUEST: the server runs <c>auth none</c>), the session then keeping its old token;
    /// <see cref="NotSupportedException"/> when the server did not announce REFRESH (an older server: reconnect with the
    /// new token instead); and, as every request, <see cref="PresenceConnectionException"/> or <see cref="TimeoutException"/>.
    /// </summary>
    public Task<RefreshedMessage> RefreshAsync(string token, CancellationToken cancellationToken = default)
    {
        if (token is null) throw new ArgumentNullException(nameof(token));
        return RefreshCoreAsync(token, automatic: false, cancellationToken);
    }

    private async Task<RefreshedMessage> RefreshCoreAsync(string token, bool automatic, CancellationToken cancellationToken)
    {
        WelcomeMessage? welcome = _welcome;
        if (welcome is not null && !welcome.CanRefresh)
            throw new NotSupportedException("the server did not announce REFRESH (an older server): reconnect with the new token instead");
        Wire.RefreshedMessage reply = await Request<Wire.RefreshedMessage, string>("REFRESH", nameof(token), token,
            static (output, rid, t) => ClientFrames.Refresh(output, rid, t), cancellationToken).ConfigureAwait(false);
        _credential = token;
        foreach (string room in reply.Left) RemoveRoom(room);
        UseToken(token);
        _events.Post(new TokenRefreshedEventArgs(reply.Exp, reply.Left, automatic));
        return new RefreshedMessage(reply.Exp, reply.Left);
    }

    /// <summary>The next HELLO's credential: from the provider when there is one, else the last accepted or configured one.</summary>
    private async Task<string?> HelloCredentialAsync(CancellationToken cancellationToken)
    {
        Func<CancellationToken, Task<string>>? provider = _options.TokenProvider;
        if (provider is null) return _credential ?? _options.Credential;
        return await provider(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The session runs on <paramref name="token"/> now (after WELCOME or REFRESHED): with a provider and a server that
    /// takes REFRESH, the automatic refresh is armed for <see cref="PresenceClientOptions.TokenRefreshAt"/> of its lifetime.
    /// </summary>
    private void UseToken(string? token)
    {
        long exp = JwtExpiry.TryRead(token, out long read) ? read : 0;
        Interlocked.Exchange(ref _tokenExp, exp);
        if (_options.TokenProvider is null || exp == 0 || _welcome?.CanRefresh != true)
        {
            ArmRefresh(Timeout.Infinite);
            return;
        }
        long lifetimeMs = exp * 1000 - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        ArmRefresh(Math.Max(0, (long)(lifetimeMs * _options.TokenRefreshAt)));
    }

    private void ArmRefresh(long dueMs)
    {
        if (_lifetime.IsCancellationRequested) return;
        try
        {
            _refreshTimer.Change(dueMs, Timeout.Infinite);
        }
        catch (ObjectDisposedException) when (_lifetime.IsCancellationRequested)
        {
            // Closed meanwhile: there is no session left to refresh.
        }
    }

    /// <summary>The refresh timer: a token from the provider, sent with REFRESH; a failure is raised and retried while time is left.</summary>
    private async Task RefreshFromProviderAsync()
    {
        if (Interlocked.Exchange(ref _autoRefreshing, 1) == 1) return;
        try
        {
            if (State != ConnectionState.Connected)
            {
                // Welcomed, still re-joining rooms: requests wait for Connected, so come back shortly. With no connection
                // at all the reconnect's HELLO asks the provider anyway, and its WELCOME arms the timer again.
                if (_connection is { IsClosed: false }) ArmRefresh(RefreshRecheckMs);
                return;
            }
            string token = await _options.TokenProvider!(_lifetime.Token).ConfigureAwait(false);
            await RefreshCoreAsync(token, automatic: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
            // Closed while refreshing: nothing to report.
        }
        catch (Exception e)
        {
            long exp = Interlocked.Read(ref _tokenExp);
            long leftMs = exp * 1000 - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            bool retry = exp != 0 && leftMs >= MinRetryLeftMs && State == ConnectionState.Connected;
            if (retry) ArmRefresh(leftMs / 2);
            _events.Post(new TokenRefreshFailedEventArgs(e, exp, retry));
        }
        finally
        {
            Volatile.Write(ref _autoRefreshing, 0);
        }
    }

    // With a token provider, a GOAWAY AUTH on an open session is its token running out: the next HELLO gets a fresh one.
    private bool StopsReconnectingAfterGoAway(ErrorCode code) =>
        StopsReconnecting(code) && !(code == ErrorCode.Auth && _options.TokenProvider is not null);
}
