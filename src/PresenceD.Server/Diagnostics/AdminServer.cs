using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Tls;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The admin port: a minimal HTTP/1.1 server on a raw socket (no ASP.NET) for scrapers and load
/// balancer checks. One request per connection, GET or HEAD, answered with Connection: close. Requests
/// must arrive within a few seconds and fit in 8 KiB; a handful are served at once, more are cut. With
/// admin_tls on it is HTTPS only (the handshake counts against the same few seconds).
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
    private readonly TlsServerSettings? _tls;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(MaxConcurrent);
    private Task _acceptLoop = Task.CompletedTask;

    private AdminServer(Socket listen, AdminEndpoints endpoints, ILogger logger, TlsServerSettings? tls)
    {
        _tls = tls;
        _listen = listen;
        _endpoints = endpoints;
        _logger = logger;
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listen.LocalEndPoint!;

    /// <summary>Binds and starts serving (HTTPS with <paramref name="tls"/>); throws <see cref="SocketException"/> when the port is taken.</summary>
    public static AdminServer Start(IPEndPoint endpoint, AdminEndpoints endpoints, ILogger logger, TlsServerSettings? tls = null)
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
        var server = new AdminServer(listen, endpoints, logger, tls);
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
            if (_tls is not null)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsServerAsync(_tls.Options, timeout.Token);
            }
            await ServeRequestAsync(stream, timeout.Token);
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

    private async Task ServeRequestAsync(Stream stream, CancellationToken cancel)
    {
        byte[] buffer = new byte[MaxRequestBytes];
        int length = 0;
        int headerEnd;
        while ((headerEnd = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (length == buffer.Length)
            {
                await RespondAsync(stream, AdminResponse.Text(431, "request header too large\n"), head: false, cancel);
                return;
            }
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancel);
            if (read == 0) return;
            length += read;
        }
        int lineEnd = buffer.AsSpan(0, headerEnd).IndexOf("\r\n"u8);
        string requestLine = Encoding.ASCII.GetString(buffer, 0, lineEnd < 0 ? headerEnd : lineEnd);
        string[] parts = requestLine.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            await RespondAsync(stream, AdminResponse.Text(400, "bad request\n"), head: false, cancel);
            return;
        }
        bool head = parts[0] == "HEAD";
        AdminResponse response = parts[0] is "GET" or "HEAD"
            ? _endpoints.Handle(parts[1])
            : AdminResponse.Text(405, "only GET and HEAD\n") with { Allow = "GET, HEAD" };
        await RespondAsync(stream, response, head, cancel);
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
