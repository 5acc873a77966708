using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Configuration;
using PresenceD.Server.Tls;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The admin port: a minimal HTTP/1.1 server on a raw socket (no ASP.NET) for scrapers and load
/// balancer checks. One request per connection, GET or HEAD, answered with Connection: close. Requests
/// must arrive within a few seconds and fit in 8 KiB; a handful are served at once, more are cut. With
/// admin_tls on it is HTTPS only, with optional HTTPS or plain HTTP by the first byte (0x16 starts a TLS handshake, no
/// HTTP request does); the handshake counts against the same few seconds, and a failed one is logged and counted.
/// </summary>
internal sealed class AdminServer : IAsyncDisposable
{
    // Not settings: the port serves scrapers and health checks on the operator's own network, whose requests are
    // one short line and whose clients are a handful; these bounds only keep a stray client from holding it.
    private const int MaxRequestBytes = 8192;
    private const int MaxConcurrent = 16;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listen;
    private readonly AdminEndpoints _endpoints;
    private readonly ILogger _logger;
    private readonly TlsMode _tlsMode;
    private readonly TlsServerSettings? _tls;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(MaxConcurrent);
    private Task _acceptLoop = Task.CompletedTask;
    private long _tlsHandshakesFailed;

    private AdminServer(Socket listen, AdminEndpoints endpoints, ILogger logger, TlsMode tlsMode, TlsServerSettings? tls)
    {
        _tlsMode = tls is null ? TlsMode.Off : tlsMode;
        _tls = tls;
        _listen = listen;
        _endpoints = endpoints;
        _logger = logger;
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listen.LocalEndPoint!;

    /// <summary>TLS handshakes on the admin port that failed or did not finish in time.</summary>
    public long TlsHandshakesFailed => Interlocked.Read(ref _tlsHandshakesFailed);

    /// <summary>
    /// Binds and starts serving, HTTPS as <paramref name="tlsMode"/> says with <paramref name="tls"/> (plain HTTP without
    /// it); its counter goes on <paramref name="meter"/>. Throws <see cref="SocketException"/> when the port is taken.
    /// </summary>
    public static AdminServer Start(IPEndPoint endpoint, AdminEndpoints endpoints, ILogger logger, Meter? meter = null, TlsMode tlsMode = TlsMode.Off, TlsServerSettings? tls = null)
    {
        var listen = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // No ReuseAddress: on Linux it means SO_REUSEPORT as well, and a second daemon would share the port.
            listen.Bind(endpoint);
            listen.Listen(64);
        }
        catch
        {
            listen.Dispose();
            throw;
        }
        var server = new AdminServer(listen, endpoints, logger, tlsMode, tls);
        meter?.CreateObservableCounter("presenced_admin_tls_handshakes_failed_total", () => server.TlsHandshakesFailed,
            description: "TLS handshakes on the admin port that failed or did not finish within its 5 s request bound");
        server._acceptLoop = Task.Run(server.AcceptLoopAsync);
        return server;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listen.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _logger.LogDebug("admin accept: {Error}", e.SocketErrorCode);
                continue;
            }
            if (!_slots.Wait(0))
            {
                socket.Dispose();
                continue;
            }
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        Stream? stream = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(RequestTimeout);
            stream = new NetworkStream(socket, ownsSocket: false);
            if (_tlsMode == TlsMode.On || (_tlsMode == TlsMode.Optional && await StartsWithTlsAsync(socket, timeout.Token)))
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                try
                {
                    await tls.AuthenticateAsServerAsync(_tls!.Options, timeout.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or AuthenticationException)
                {
                    HandshakeFailed(socket, e is OperationCanceledException ? $"not finished within {RequestTimeout.TotalSeconds} s" : e.Message);
                    return;
                }
            }
            // A TLS 1.3 client checks the certificate after its side of the handshake is done: one that refuses it
            // ends the connection before any request, which is how the failure shows here.
            if (!await ServeRequestAsync(stream, timeout.Token) && stream is SslStream)
            {
                HandshakeFailed(socket, "the client ended the connection after the handshake, before any request (did it refuse the certificate?)");
                return;
            }
            if (stream is SslStream done) await done.ShutdownAsync(); // close_notify, so clients see a clean end
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException or AuthenticationException)
        {
            _logger.LogDebug("admin request dropped: {Error}", e.Message);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "admin request failed");
        }
        finally
        {
            if (stream is not null) await stream.DisposeAsync();
            socket.Dispose();
            _slots.Release();
        }
    }

    private void HandshakeFailed(Socket socket, string why)
    {
        Interlocked.Increment(ref _tlsHandshakesFailed);
        _logger.LogInformation("admin tls handshake from {Remote} failed: {Reason}", socket.RemoteEndPoint, why);
    }

    // admin_tls optional: waits for the first byte, leaving it in the socket. An HTTP request starts with a method
    // name, never with 0x16 (a TLS handshake record).
    private static async Task<bool> StartsWithTlsAsync(Socket socket, CancellationToken cancel)
    {
        byte[] first = new byte[1];
        int peeked = await socket.ReceiveAsync(first, SocketFlags.Peek, cancel);
        return peeked == 1 && first[0] == TlsRecords.HandshakeRecord;
    }

    /// <summary>Reads one request and answers it; false when the connection ended (or broke) before its first byte.</summary>
    private async Task<bool> ServeRequestAsync(Stream stream, CancellationToken cancel)
    {
        byte[] buffer = new byte[MaxRequestBytes];
        int length = 0;
        int headerEnd;
        while ((headerEnd = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (length == buffer.Length)
            {
                await RespondAsync(stream, AdminResponse.Text(431, "request header too large\n"), head: false, cancel);
                return true;
            }
            int read;
            try
            {
                read = await stream.ReadAsync(buffer.AsMemory(length), cancel);
            }
            catch (IOException) when (length == 0)
            {
                return false;
            }
            if (read == 0) return length > 0;
            length += read;
        }
        int lineEnd = buffer.AsSpan(0, headerEnd).IndexOf("\r\n"u8);
        string requestLine = Encoding.ASCII.GetString(buffer, 0, lineEnd < 0 ? headerEnd : lineEnd);
        string[] parts = requestLine.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            await RespondAsync(stream, AdminResponse.Text(400, "bad request\n"), head: false, cancel);
            return true;
        }
        bool head = parts[0] == "HEAD";
        AdminResponse response = parts[0] is "GET" or "HEAD"
            ? _endpoints.Handle(parts[1])
            : AdminResponse.Text(405, "only GET and HEAD\n") with { Allow = "GET, HEAD" };
        await RespondAsync(stream, response, head, cancel);
        return true;
    }

    private static async Task RespondAsync(Stream stream, AdminResponse response, bool head, CancellationToken cancel)
    {
        byte[] body = Encoding.UTF8.GetBytes(response.Body);
        var header = new StringBuilder(160)
            .Append("HTTP/1.1 ").Append(response.Status).Append(' ').Append(AdminResponse.ReasonPhrase(response.Status)).Append("\r\n")
            .Append("Content-Type: ").Append(response.ContentType).Append("\r\n")
            .Append("Content-Length: ").Append(body.Length).Append("\r\n")
            .Append("Cache-Control: no-store\r\n")
            .Append("Connection: close\r\n");
        if (response.Allow is not null) header.Append("Allow: ").Append(response.Allow).Append("\r\n");
        header.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(header.ToString()), cancel);
        if (!head) await stream.WriteAsync(body, cancel);
        await stream.FlushAsync(cancel);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listen.Dispose();
        await _acceptLoop;
        _stop.Dispose();
    }
}
