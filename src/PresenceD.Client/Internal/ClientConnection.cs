using System;
using System.Buffers;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;

namespace PresenceD.Client.Internal;

/// <summary>
/// One TCP connection to the server, plain or TLS (<see cref="TlsHandshake"/>): a receive loop that cuts frames (up to 16 MiB) and hands each to the
/// owner, and a send path where callers encode frames into a shared buffer under a lock
/// (<see cref="BeginWrite"/>/<see cref="EndWrite"/>) and one flusher writes everything queued with one send per batch.
/// </summary>
internal sealed class ClientConnection : IDisposable
{
    private const int InitialReceiveSize = 8 * 1024;
    private const int KeepBufferLimit = 64 * 1024;

    private readonly Socket _socket;
    private readonly SslStream? _tls; // null: plain TCP, the socket is read and written directly
    private readonly IFrameHandler _handler;
    private readonly object _sendLock = new object();
    private FrameBuffer _pending = new FrameBuffer(1024);
    private FrameBuffer _sending = new FrameBuffer(1024);
    private bool _flushing;
    private int _closed;
    private long _lastSentMs;
    private long _lastReceivedMs;

    private ClientConnection(Socket socket, SslStream? tls, IFrameHandler handler)
    {
        _socket = socket;
        _tls = tls;
        _handler = handler;
        _lastSentMs = _lastReceivedMs = MonotonicClock.NowMs;
    }

    public long LastSentMs => Volatile.Read(ref _lastSentMs);

    public long LastReceivedMs => Volatile.Read(ref _lastReceivedMs);

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>
    /// Resolves <paramref name="host"/> (with <paramref name="resolve"/> when given), tries each address in turn, each for
    /// at most <paramref name="timeout"/> (and as long again for the TLS handshake when <paramref name="tls"/> is given), and
    /// starts the receive loop on the first that accepts. When none does, the last address's error is thrown (a
    /// <see cref="SocketException"/>, <see cref="IOException"/> or <see cref="TimeoutException"/>) with every address named
    /// in its message. A <see cref="PresenceTlsException"/> (the certificate is refused) is thrown at once.
    /// </summary>
    public static async Task<ClientConnection> OpenAsync(string host, int port, TimeSpan timeout, IFrameHandler handler,
        Func<string, CancellationToken, Task<IPAddress[]>>? resolve, TlsHandshake? tls, CancellationToken cancellation)
    {
        IPAddress[] addresses = IPAddress.TryParse(host, out IPAddress? literal) ? new[] { literal }
            : resolve is not null ? await resolve(host, cancellation).ConfigureAwait(false)
#if NET
            : await Dns.GetHostAddressesAsync(host, cancellation).ConfigureAwait(false);
#else
            : await Dns.GetHostAddressesAsync(host).ConfigureAwait(false);
#endif
        if (addresses.Length == 0) throw new PresenceConnectionException($"cannot resolve {host}");
        for (int i = 0; ; i++)
        {
            try
            {
                Socket socket = await ConnectAsync(addresses[i], port, timeout, cancellation).ConfigureAwait(false);
                SslStream? stream = null;
                if (tls is not null)
                {
                    try
                    {
                        stream = await tls.AuthenticateAsync(socket, $"{host}:{port}", timeout, cancellation).ConfigureAwait(false);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                }
                var connection = new ClientConnection(socket, stream, handler);
                _ = connection.ReceiveLoopAsync();
                return connection;
            }
            catch (Exception e) when (i + 1 == addresses.Length && addresses.Length > 1 && (e is SocketException || e is IOException || e is TimeoutException))
            {
                string tried = string.Join(", ", Array.ConvertAll(addresses, a => a.ToString()));
                throw new PresenceConnectionException($"cannot connect to {host}:{port} (tried {tried}): {e.Message}", e);
            }
            catch (Exception e) when (i + 1 < addresses.Length && (e is SocketException || e is IOException || e is TimeoutException))
            {
            }
        }
    }

    private static async Task<Socket> ConnectAsync(IPAddress address, int port, TimeSpan timeout, CancellationToken cancellation)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            Task connect = socket.ConnectAsync(new IPEndPoint(address, port));
            using (var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                Task finished = await Task.WhenAny(connect, Task.Delay(timeout, timer.Token)).ConfigureAwait(false);
                timer.Cancel();
                if (finished != connect)
                {
                    cancellation.ThrowIfCancellationRequested();
                    throw new TimeoutException($"connecting to {address}:{port} took longer than {timeout.TotalSeconds:0.#} s");
                }
            }
            await connect.ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Takes the send lock and returns the buffer to encode frames into; always pair with <see cref="EndWrite"/>.</summary>
    public FrameBuffer BeginWrite()
    {
        Monitor.Enter(_sendLock);
        return _pending;
    }

    /// <summary>Releases the send lock and makes sure a flusher will send what was written.</summary>
    public void EndWrite()
    {
        bool startFlush = !_flushing && _pending.WrittenCount > 0 && _closed == 0;
        if (startFlush) _flushing = true;
        else if (_closed != 0) _pending.Release();
        Monitor.Exit(_sendLock);
        if (startFlush) _ = FlushAsync();
    }

    /// <summary>Closes the socket; the receive loop then reports <see cref="IFrameHandler.OnClosed"/> once.</summary>
    public void Close(Exception? error = null)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        _tls?.Dispose();
        _socket.Dispose();
        lock (_sendLock)
        {
            _pending.Release();
            if (!_flushing) _sending.Release();
        }
        _handler.OnClosed(this, error);
    }

    /// <summary>Sends what is queued, then shuts down the sending side so the server sees the end after it (for BYE).</summary>
    public async Task DrainAndShutdownAsync(TimeSpan timeout)
    {
        long deadline = MonotonicClock.NowMs + (long)timeout.TotalMilliseconds;
        while (MonotonicClock.NowMs < deadline && !IsClosed)
        {
            lock (_sendLock)
            {
                if (!_flushing && _pending.WrittenCount == 0) break;
            }
            await Task.Delay(5).ConfigureAwait(false);
        }
        try
        {
            // TLS: close_notify first, so the server reads a clean end of the TLS stream rather than a cut one.
            if (_tls is not null && !IsClosed) await _tls.ShutdownAsync().ConfigureAwait(false);
            if (!IsClosed) _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose() => Close();

    private async Task FlushAsync()
    {
        while (true)
        {
            FrameBuffer batch;
            lock (_sendLock)
            {
                if (_pending.WrittenCount == 0 || _closed != 0)
                {
                    _flushing = false;
                    if (_closed != 0) _sending.Release();
                    return;
                }
                batch = _pending;
                _pending = _sending;
                _sending = batch;
            }
            try
            {
                ReadOnlyMemory<byte> data = batch.WrittenMemory;
                while (!data.IsEmpty)
                {
                    if (_tls is not null)
                    {
                        await _tls.WriteAsync(data).ConfigureAwait(false); // one TLS write per batch, as one send plain
                        break;
                    }
                    int sent = await _socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
                    data = data.Slice(sent);
                }
                Volatile.Write(ref _lastSentMs, MonotonicClock.NowMs);
            }
            catch (Exception e) when (e is SocketException || e is IOException || e is ObjectDisposedException)
            {
                lock (_sendLock) _flushing = false;
                Close(e);
                return;
            }
            lock (_sendLock)
            {
                if (batch.Capacity > KeepBufferLimit) batch.Release();
                else batch.Clear();
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveSize);
        int filled = 0;
        Exception? error = null;
        try
        {
            while (true)
            {
                if (filled == buffer.Length) buffer = Grow(buffer, filled);
                int read = _tls is null
                    ? await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None).ConfigureAwait(false)
                    : await _tls.ReadAsync(buffer.AsMemory(filled)).ConfigureAwait(false);
                if (read == 0) break;
                Volatile.Write(ref _lastReceivedMs, MonotonicClock.NowMs);
                filled += read;
                var unread = new ReadOnlySequence<byte>(buffer, 0, filled);
                while (FrameReader.TryRead(ref unread, ProtocolConstants.MaxServerFrame, out ReadOnlySequence<byte> body) == FrameStatus.Complete)
                    _handler.OnFrame(this, body);
                int left = (int)unread.Length;
                if (left > 0 && left != filled) Buffer.BlockCopy(buffer, filled - left, buffer, 0, left);
                filled = left;
            }
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Close(error);
    }

    private static byte[] Grow(byte[] buffer, int filled)
    {
        if (buffer.Length >= ProtocolConstants.MaxServerFrame + ProtocolConstants.LengthPrefixSize)
            throw new ProtocolException("server frame over 16 MiB");
        byte[] grown = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, ProtocolConstants.MaxServerFrame + ProtocolConstants.LengthPrefixSize));
        Buffer.BlockCopy(buffer, 0, grown, 0, filled);
        ArrayPool<byte>.Shared.Return(buffer);
        return grown;
    }
}
