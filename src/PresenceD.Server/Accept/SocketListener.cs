using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Protocol.Framing;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Accept;

/// <summary>
/// The accept loop. Errors are sorted as Garnet's server does: fatal (the listener is gone: stop),
/// resource pressure (out of descriptors or buffers: back off 100 ms doubling to 5 s) and transient
/// (the peer gave up mid-handshake: log and go on). The connection count is reserved before the
/// connection is built and given back if setup fails; over max_connections the client gets GOAWAY LIMIT.
/// With proxy_protocol on, the PROXY header is read first, so the limit and every log line see the real client.
/// </summary>
internal sealed class SocketListener : IDisposable
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    // The kernel caps it at net.core.somaxconn; large, so a reconnect storm after a node failure queues instead of
    // being refused while the accept loop catches up. Not a setting: the kernel's cap is the operator's knob.
    private const int ListenBacklog = 4096;

    // Refused clients whose GOAWAY LIMIT lingers at once (close_linger each); past it a refusal is closed at once.
    // Not a setting: it only bounds the descriptors a reconnect storm against a full server can hold.
    private const int MaxLingeringRefusals = 1024;

    private readonly ConnectionHost _host;
    private readonly Func<Connection, IConnectionHandler> _openSession;
    private readonly Socket _listen;
    private readonly bool _proxyProtocol;
    private long _nextId;

    /// <param name="openSession">Makes the handler (the protocol session) of each new connection.</param>
    public SocketListener(ConnectionHost host, IPEndPoint endpoint, Func<Connection, IConnectionHandler> openSession)
    {
        _host = host;
        _openSession = openSession;
        _proxyProtocol = host.Options.Current.ProxyProtocol;
        _listen = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // No ReuseAddress: on Linux .NET maps it to SO_REUSEPORT too, and two daemons would then share the port
            // and split its clients. .NET already sets SO_REUSEADDR, which is what a restart next to TIME_WAIT needs.
            _listen.Bind(endpoint);
            _listen.Listen(ListenBacklog);
        }
        catch
        {
            _listen.Dispose();
            throw;
        }
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_listen.LocalEndPoint!;

    public async Task RunAsync(CancellationToken stop)
    {
        TimeSpan backoff = MinBackoff;
        while (!stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listen.AcceptAsync(stop);
                backoff = MinBackoff;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (IsResourcePressure(e.SocketErrorCode))
            {
                _host.Logger.LogWarning("accept: {Error}; backing off {Backoff} ms", e.SocketErrorCode, backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                continue;
            }
            catch (SocketException e) when (IsTransient(e.SocketErrorCode))
            {
                _host.Logger.LogDebug("accept: transient {Error}", e.SocketErrorCode);
                continue;
            }
            catch (SocketException e)
            {
                _host.Logger.LogCritical("accept failed fatally: {Error}; the listener stops", e.SocketErrorCode);
                throw;
            }
            Admit(socket, stop);
        }
    }

    private void Admit(Socket socket, CancellationToken stop)
    {
        _host.Counters.CountAccepted();
        if (_proxyProtocol)
        {
            _ = AdmitBehindProxyAsync(socket, stop);
            return;
        }
        Admit(socket, socket.RemoteEndPoint);
    }

    /// <summary>proxy_protocol on: the header must arrive within hello_timeout; then limits and logs see its client address.</summary>
    private async Task AdmitBehindProxyAsync(Socket socket, CancellationToken stop)
    {
        EndPoint? remote;
        try
        {
            remote = await ProxyProtocolReader.ReadAsync(socket, _host.Options.Current.HelloTimeout, stop);
        }
        catch (Exception e) when (e is InvalidDataException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            _host.Counters.CountClose(CloseReason.ProtocolError);
            string error = e is not OperationCanceledException ? e.Message
                : stop.IsCancellationRequested ? "server stopping" : "no PROXY header within hello_timeout";
            _host.Logger.LogInformation("conn from {Remote} refused: {Reason} ({Error})", SafeRemote(socket), CloseReason.ProtocolError, error);
            socket.Dispose();
            return;
        }
        catch (Exception e)
        {
            _host.Counters.CountClose(CloseReason.InternalError);
            _host.Logger.LogError(e, "conn from {Remote}: reading the PROXY header failed", SafeRemote(socket));
            socket.Dispose();
            return;
        }
        Admit(socket, remote);
    }

    private void Admit(Socket socket, EndPoint? remote)
    {
        if (!_host.Registry.TryReserve(_host.Options.Current.MaxConnections))
        {
            RefuseFull(socket, remote);
            return;
        }
        Connection? connection = null;
        try
        {
            socket.NoDelay = true;
            connection = new Connection(socket, _host, Interlocked.Increment(ref _nextId), remote);
            _host.Registry.Add(connection);
            connection.Start(_openSession(connection));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _host.Logger.LogDebug("accept: connection gone during setup ({Error})", e.Message);
            if (connection is not null)
            {
                connection.Abort(); // gives its place back
                return;
            }
            _host.Registry.Unreserve();
            socket.Dispose();
        }
    }

    private static EndPoint? SafeRemote(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>
    /// GOAWAY LIMIT right after accept, then the lingering close every connection gets (the client may already be
    /// writing its HELLO). Past <see cref="MaxLingeringRefusals"/>: one non-blocking send, then close at once.
    /// </summary>
    private void RefuseFull(Socket socket, EndPoint? remote)
    {
        int max = _host.Options.Current.MaxConnections;
        _host.Logger.LogInformation("conn from {Remote} refused: {Reason} (max_connections {Max})", remote, CloseReason.ServerFull, max);
        if (_host.TlsMode != Configuration.TlsMode.Off)
        {
            // A TLS client expects a handshake, not a plaintext GOAWAY; a handshake per refusal is what a storm cannot afford.
            _host.Counters.CountClose(CloseReason.ServerFull);
            socket.Dispose();
            return;
        }
        if (_host.Registry.TryReserveRefusal(MaxLingeringRefusals))
        {
            try
            {
                var connection = new Connection(socket, _host, Interlocked.Increment(ref _nextId), remote);
                _host.Registry.Add(connection);
                connection.Refuse(CloseReason.ServerFull, $"max_connections {max}"); // counted when it closes
                return;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _host.Registry.ReleaseRefusal();
                _host.Counters.CountClose(CloseReason.ServerFull);
                socket.Dispose();
                return;
            }
        }
        _host.Counters.CountClose(CloseReason.ServerFull);
        try
        {
            using var frame = new FrameBuffer(64);
            (ErrorCode code, string message, long reconnectMs) = CloseReasons.GoAwayFor(CloseReason.ServerFull, _host.Options.Current);
            ServerFrames.GoAway(frame, code, message, reconnectMs);
            socket.Blocking = false;
            socket.Send(frame.WrittenSpan, SocketFlags.None, out _);
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        socket.Dispose();
    }

    private static bool IsResourcePressure(SocketError error) =>
        error is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable or SocketError.SystemNotReady;

    private static bool IsTransient(SocketError error) =>
        error is SocketError.ConnectionAborted or SocketError.ConnectionReset or SocketError.Interrupted or SocketError.TryAgain or SocketError.WouldBlock;

    public void Dispose() => _listen.Dispose();
}
