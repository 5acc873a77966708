using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;

namespace PresenceD.Tests.Shared;

/// <summary>
/// A raw protocol client over a real socket: sends frames built with the protocol encoders and reads server
/// frames one at a time, with a timeout on every read so a missing frame fails the test. With a keep-alive
/// (<see cref="KeepAlive"/>) it sends PING rid 0 on a timer and hides their PONGs, for servers whose
/// heartbeat timeout is shorter than the test's silences. With <see cref="TestTls"/> it speaks TLS, trusting only the
/// given CA.
/// </summary>
internal sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly byte[] _receive = new byte[1 << 20];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private CancellationTokenSource? _keepAlive;
    private volatile bool _hideKeepAlivePongs;
    private int _start;
    private int _end;

    private TestClient(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    public WelcomeMessage? Welcome { get; private set; }

    public string Conn => Welcome?.Conn ?? throw new InvalidOperationException("no WELCOME yet");

    /// <summary>Connects; with <paramref name="tls"/>, also completes the TLS handshake (throws when it fails).</summary>
    public static async Task<TestClient> ConnectAsync(IPEndPoint server, TestTls? tls = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server);
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        if (tls is null) return new TestClient(socket, stream);
        var secure = new SslStream(stream, leaveInnerStreamOpen: false, tls.Validate);
        try
        {
            using var timeout = new CancellationTokenSource(DefaultTimeout);
            await secure.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = tls.TargetHost, EnabledSslProtocols = tls.Protocols }, timeout.Token);
        }
        catch
        {
            await secure.DisposeAsync();
            socket.Dispose();
            throw;
        }
        return new TestClient(socket, secure);
    }

    /// <summary>The negotiated TLS version, or null on a plain connection.</summary>
    public System.Security.Authentication.SslProtocols? TlsProtocol => (_stream as SslStream)?.SslProtocol;

    /// <summary>
    /// Connects and completes HELLO as <paramref name="user"/>; keeps the connection alive when <paramref name="keepAlive"/> is
    /// given; <paramref name="resume"/> ("" or a token) asks for a resumable session (HELLO's resume field);
    /// <paramref name="features"/> (not 0) is HELLO's features field.
    /// </summary>
    public static async Task<TestClient> HelloAsync(IPEndPoint server, string user, uint rid = 1, TimeSpan? keepAlive = null, string client = "tests", string? resume = null,
        uint features = 0, TestTls? tls = null)
    {
        TestClient connection = await ConnectAsync(server, tls);
        if (keepAlive is { } every) connection.KeepAlive(every);
        await connection.SendAsync(b => ClientFrames.Hello(b, rid, user, client, resume: resume, features: features));
        connection.Welcome = await connection.ExpectAsync<WelcomeMessage>();
        return connection;
    }

    /// <summary>Sends PING (rid 0) every <paramref name="every"/> from now on; their PONGs no longer come out of <see cref="ReceiveAsync"/>.</summary>
    public void KeepAlive(TimeSpan every)
    {
        if (_keepAlive is not null) throw new InvalidOperationException("already kept alive");
        _hideKeepAlivePongs = true;
        _keepAlive = new CancellationTokenSource();
        _ = PingLoopAsync(every, _keepAlive.Token);
    }

    /// <summary>Stops the keep-alive, so the server times the connection out (late keep-alive PONGs stay hidden).</summary>
    public Task StopPingingAsync() => _keepAlive?.CancelAsync() ?? Task.CompletedTask;

    public async Task SendAsync(Action<FrameBuffer> write)
    {
        using var buffer = new FrameBuffer();
        write(buffer);
        await SendRawAsync(buffer.WrittenMemory);
    }

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _stream.WriteAsync(bytes);
        }
        catch (IOException e) when (e.InnerException is SocketException socketError)
        {
            // Callers wait for the socket's own error (as from a raw socket), not the stream's wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(socketError);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends a frame whose body is <paramref name="body"/> (length prefix added).</summary>
    public Task SendBodyAsync(byte[] body)
    {
        var frame = new byte[4 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        body.CopyTo(frame, 4);
        return SendRawAsync(frame);
    }

    /// <summary>The next server frame (keep-alive PONGs hidden), or null when the server closed the connection.</summary>
    public async Task<ServerMessage?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            var buffer = new ReadOnlySequence<byte>(_receive, _start, _end - _start);
            if (FrameReader.TryRead(ref buffer, ProtocolConstants.MaxServerFrame, out ReadOnlySequence<byte> body) == FrameStatus.Complete)
            {
                ServerMessage message = ServerMessageDecoder.Decode(body);
                _start = _end - (int)buffer.Length;
                if (_hideKeepAlivePongs && message is PongMessage { Rid: 0 }) continue;
                return message;
            }
            if (_start > 0)
            {
                Array.Copy(_receive, _start, _receive, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int n;
            try
            {
                n = await _stream.ReadAsync(_receive.AsMemory(_end), cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("no frame from the server in time");
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                return null;
            }
            if (n == 0) return null;
            _end += n;
        }
    }

    /// <summary>The next frame, which must be a <typeparamref name="T"/>.</summary>
    public async Task<T> ExpectAsync<T>(TimeSpan? timeout = null) where T : ServerMessage
    {
        ServerMessage? message = await ReceiveAsync(timeout);
        return message as T ?? throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name}, got {Describe(message)}");
    }

    /// <summary>
    /// Reads until a frame matches <paramref name="match"/> (the event <paramref name="awaited"/> names) and returns
    /// every frame read, the match last; fails when the connection closes or <paramref name="timeout"/> passes first.
    /// </summary>
    public async Task<List<ServerMessage>> ReceiveUntilAsync(Func<ServerMessage, bool> match, string awaited, TimeSpan? timeout = null)
    {
        var frames = new List<ServerMessage>();
        TimeSpan limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            TimeSpan left = limit - clock.Elapsed;
            ServerMessage? message;
            try
            {
                message = left > TimeSpan.Zero ? await ReceiveAsync(left) : throw new TimeoutException();
            }
            catch (TimeoutException)
            {
                throw new WaitTimeoutException($"timed out after {limit.TotalSeconds:0.###} s waiting for {awaited}; got: {string.Join(" | ", frames.Select(Describe))}");
            }
            if (message is null) throw new Xunit.Sdk.XunitException($"connection closed while waiting for {awaited}; got: {string.Join(" | ", frames.Select(Describe))}");
            frames.Add(message);
            if (match(message)) return frames;
        }
    }

    /// <summary>True when nothing arrives within <paramref name="quiet"/> (used sparingly: proves an absence).</summary>
    public async Task<bool> NothingWithinAsync(TimeSpan quiet)
    {
        try
        {
            return await ReceiveAsync(quiet) is null;
        }
        catch (TimeoutException)
        {
            return true;
        }
    }

    /// <summary>Every frame that arrives until <paramref name="quiet"/> passes without one (proves that nothing more comes).</summary>
    public async Task<List<ServerMessage>> DrainAsync(TimeSpan quiet)
    {
        var messages = new List<ServerMessage>();
        while (true)
        {
            try
            {
                if (await ReceiveAsync(quiet) is not { } message) return messages;
                messages.Add(message);
            }
            catch (TimeoutException)
            {
                return messages;
            }
        }
    }

    /// <summary>Reads until the server closes; returns what it sent before.</summary>
    public async Task<List<ServerMessage>> ReadUntilClosedAsync(TimeSpan? timeout = null)
    {
        var messages = new List<ServerMessage>();
        while (await ReceiveAsync(timeout) is { } message) messages.Add(message);
        return messages;
    }

    /// <summary>Resets the connection (RST, no FIN): what the server sees when a client vanishes.</summary>
    public void Abort()
    {
        _keepAlive?.Cancel();
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _keepAlive?.Cancel();
        _socket.Dispose();
        await _stream.DisposeAsync();
    }

    public static string Describe(ServerMessage? message) => message switch
    {
        null => "connection closed",
        PresenceDiffMessage d => $"PRESENCE_DIFF joins [{string.Join(",", d.Joins.Select(m => m.Conn))}] leaves [{string.Join(",", d.Leaves.Select(m => m.Conn))}]",
        _ => message.ToString()!,
    };

    private async Task PingLoopAsync(TimeSpan every, CancellationToken stop)
    {
        try
        {
            using var timer = new PeriodicTimer(every);
            while (await timer.WaitForNextTickAsync(stop)) await SendAsync(b => ClientFrames.Ping(b, 0));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
        }
    }
}

/// <summary>TLS for a <see cref="TestClient"/>: the only CA trusted, the name checked (and sent as SNI), the versions offered.</summary>
internal sealed record TestTls(string CaFile, string TargetHost = "localhost",
    System.Security.Authentication.SslProtocols Protocols = System.Security.Authentication.SslProtocols.None)
{
    /// <summary>Told the thumbprint of the certificate the server presented.</summary>
    public Action<string>? Presented { get; init; }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is not null) Presented?.Invoke(new X509Certificate2(certificate).Thumbprint);
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.CustomTrustStore.ImportFromPemFile(CaFile);
        if (chain is not null) foreach (X509ChainElement element in chain.ChainElements) custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        return custom.Build(new X509Certificate2(certificate));
    }
}
