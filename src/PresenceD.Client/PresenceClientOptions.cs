using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;

namespace PresenceD.Client;

/// <summary>Settings of a <see cref="PresenceClient"/>.</summary>
public sealed class PresenceClientOptions
{
    /// <summary>
    /// Server host name or address (default 127.0.0.1). A name is resolved at every connect, and each of its
    /// addresses is tried in turn until one accepts.
    /// </summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Server port (default 7400).</summary>
    public int Port { get; set; } = ServerAddress.DefaultPort;

    /// <summary>
    /// Speak TLS to the server (default false): for a server with <c>tls on</c> or <c>optional</c>, or behind a proxy that
    /// terminates TLS. The handshake is bounded by <see cref="ConnectTimeout"/>. A certificate that is not trusted, is
    /// expired or is for another name fails the connect with <see cref="PresenceTlsException"/>, which is not retried.
    /// </summary>
    public bool Tls { get; set; }

    /// <summary>
    /// With <see cref="Tls"/>: the server name sent in SNI and checked against the certificate (default null: <see cref="Host"/>).
    /// Set it when connecting by address to a certificate issued for a name.
    /// </summary>
    public string? TlsTargetHost { get; set; }

    /// <summary>
    /// With <see cref="Tls"/>: a PEM file of the CA certificates to trust instead of the system's roots (default null: the
    /// system's). Read at each connect.
    /// </summary>
    public string? TlsCaFile { get; set; }

    /// <summary>
    /// With <see cref="Tls"/>: accept any certificate (default false). For tests only: it lets anyone between the
    /// client and the server read and change the traffic.
    /// </summary>
    public bool TlsInsecureSkipVerify { get; set; }

    /// <summary>
    /// HELLO credential: a JWT with <c>auth jwt</c>, the user id itself with <c>auth none</c>. Unused when
    /// <see cref="TokenProvider"/> is set; replaced, for the next HELLOs, by a token <see cref="PresenceClient.RefreshAsync"/>
    /// got accepted.
    /// </summary>
    public string? Credential { get; set; }

    /// <summary>
    /// Gives a fresh JWT (<c>auth jwt</c>) whenever the client needs one (default null: <see cref="Credential"/> is used).
    /// The client calls it for every HELLO (connect and each reconnect) and, when the server supports REFRESH, ahead of
    /// the token's expiry: once <see cref="TokenRefreshAt"/> of the token's lifetime has passed (its <c>exp</c> claim,
    /// read without verifying, against this machine's clock), it sends the new token with REFRESH, and the session goes
    /// on without a reconnect. A failure (the provider throws, the server refuses the token) raises
    /// <see cref="PresenceClient.TokenRefreshFailed"/> and is retried while time is left. An exception from the provider
    /// during a connect fails that attempt (a reconnect retries it with the back-off). With a provider, the GOAWAY AUTH of
    /// an expired token does not stop reconnecting: the next HELLO gets a fresh token. The argument is cancelled when
    /// the client is closed.
    /// </summary>
    public Func<CancellationToken, Task<string>>? TokenProvider { get; set; }

    /// <summary>
    /// With <see cref="TokenProvider"/>: the fraction of a token's lifetime (from when the client started using it to
    /// its <c>exp</c>) after which the client refreshes it (default 0.8: a one-hour token is refreshed 12 minutes before
    /// it expires, a 10 s token 2 s before). Greater than 0, at most 1.
    /// </summary>
    public double TokenRefreshAt { get; set; } = 0.8;

    /// <summary>Free-form client name the server shows in logs and metrics.</summary>
    public string? ClientName { get; set; } = "presenced-dotnet";

    /// <summary>
    /// How long a request may take (default 10 s): from the call to the reply, including the wait for a connection
    /// when <see cref="WaitForConnection"/> is on. Past it the request throws <see cref="TimeoutException"/>.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long opening the TCP connection to one address may take (default 10 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Reconnect after the connection is lost (default true). Not after the server refused the credential or the
    /// protocol version (GOAWAY AUTH, VERSION, PROTOCOL) or the client refused the server's TLS certificate
    /// (<see cref="PresenceTlsException"/>), except the GOAWAY AUTH of a token that expired while connected
    /// when a <see cref="TokenProvider"/> gives the next one. The first <see cref="PresenceClient.ConnectAsync"/> retries
    /// only with <see cref="RetryFirstConnect"/>.
    /// </summary>
    public bool AutoReconnect { get; set; } = true;

    /// <summary>
    /// Ask the server for a resumable session (default true). A reconnect within the server's resume window then
    /// resumes it: same connection id, rooms, metas and wills, the messages sent meanwhile delivered, nobody else sees
    /// a leave or a join, and <see cref="ConnectionStateChangedEventArgs.Resumed"/> is true. A server without it (or
    /// with resume_window 0s) gives an ordinary session, and reconnects re-join the rooms.
    /// </summary>
    public bool Resumable { get; set; } = true;

    /// <summary>
    /// Let the first <see cref="PresenceClient.ConnectAsync"/> retry, with <see cref="Backoff"/>, while the server cannot
    /// be reached or turns the client away for a while (GOAWAY LIMIT, SHUTDOWN) (default false: one attempt). It stops
    /// when the client is welcomed, when the server refuses the HELLO (AUTH, VERSION, BAD_REQUEST, ...), when its
    /// cancellation token fires, or when the client is closed. The state stays <see cref="ConnectionState.Connecting"/> meanwhile.
    /// </summary>
    public bool RetryFirstConnect { get; set; }

    /// <summary>
    /// Let a request made while the client is connecting or reconnecting wait for the connection instead of throwing
    /// <see cref="PresenceConnectionException"/> at once (default false). The wait counts against
    /// <see cref="RequestTimeout"/>; a client that gives up reconnecting (or is closed) fails the waiting requests with
    /// <see cref="PresenceConnectionException"/>. <see cref="PresenceClient.Publish"/> (no reply) never waits.
    /// </summary>
    public bool WaitForConnection { get; set; }

    /// <summary>The reconnect back-off (also between the attempts of <see cref="RetryFirstConnect"/>).</summary>
    public BackoffPolicy Backoff { get; set; } = new BackoffPolicy();

    /// <summary>Which thread raises events (default: a background task).</summary>
    public EventDispatchMode EventDispatch { get; set; } = EventDispatchMode.Background;

    /// <summary>
    /// With <see cref="EventDispatchMode.SynchronizationContext"/>: the context events are posted to. Null (the default)
    /// takes the one current when the client is created; the client's constructor throws when there is none.
    /// </summary>
    public SynchronizationContext? SynchronizationContext { get; set; }

    /// <summary>
    /// Most events waiting to be raised (default 10,000; at least 1), in every dispatch mode. When one more arrives, the oldest
    /// waiting event is dropped and counted in <see cref="PresenceClient.DroppedEvents"/>: after a pause (a Unity app
    /// in the background) the newest events are raised. The presence models (<see cref="PresenceClient.GetPresence"/>)
    /// are kept up to date whether or not events are dropped, so an application that sees drops re-reads them.
    /// </summary>
    public int MaxPendingEvents { get; set; } = 10_000;

    /// <summary>
    /// The server's <c>name_max</c> (default 128, the server's default): a room name over this many bytes of UTF-8 is
    /// refused locally with <see cref="PresenceTooLargeException"/>. 0 turns the local check off (the server still
    /// answers TOO_LARGE).
    /// </summary>
    public int NameMax { get; set; } = 128;

    /// <summary>
    /// The server's <c>meta_max</c> (default 1024 bytes, the server's default): a larger meta is refused locally with
    /// <see cref="PresenceTooLargeException"/>. 0 turns the local check off (the server still answers TOO_LARGE).
    /// Every frame is also checked against WELCOME's <c>max_frame</c>, which the client learns from the server.
    /// </summary>
    public int MetaMax { get; set; } = 1024;

    /// <summary>Resolves <see cref="Host"/>; tests replace it to control the addresses.</summary>
    internal Func<string, CancellationToken, Task<IPAddress[]>>? Resolve { get; set; }

    /// <summary>Sets <see cref="Host"/> and <see cref="Port"/> from "host:port".</summary>
    public PresenceClientOptions WithServer(string address)
    {
        ServerAddress parsed = ServerAddress.Parse(address);
        Host = parsed.Host;
        Port = parsed.Port;
        return this;
    }
}
