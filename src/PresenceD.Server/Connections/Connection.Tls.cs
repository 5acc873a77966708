using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using PresenceD.Protocol.Framing;
using PresenceD.Server.Configuration;
using PresenceD.Server.Tls;

namespace PresenceD.Server.Connections;

/// <summary>
/// TLS on the client port (<c>tls on|optional</c>): the handshake, then the same frames through an
/// <see cref="SslStream"/> over the socket (<see cref="CipherStream"/>). Received plaintext goes into the same pipe and
/// frame reader as a plain read; a send batch is one SslStream write, tried synchronously like a plain send. What
/// differs is only where bytes come from and go to; heartbeats, limits, closes and the linger are the plain ones.
/// With <c>tls optional</c> the connection's first byte decides: 0x16 (a TLS handshake record) means TLS, anything
/// else is a plain frame's length (a frame of 0x16000000 bytes or more could never pass max_frame).
/// </summary>
internal sealed partial class Connection
{
    private SslStream? _tls;
    private volatile TransportStage _stage = TransportStage.Plain;
    // Whether any plaintext arrived. With TLS 1.3 the server's handshake is done before the client has checked the
    // certificate, so a client that refuses it just closes: the end of a TLS connection that never sent a byte.
    private bool _tlsPlaintextSeen;

    private enum TransportStage
    {
        /// <summary>Waiting for the first byte (tls on or optional), nothing sent yet.</summary>
        Sniffing,
        /// <summary>The TLS handshake runs: no frame can be sent.</summary>
        Handshaking,
        /// <summary>Frames travel in plaintext.</summary>
        Plain,
        /// <summary>Frames travel through the SslStream.</summary>
        Tls,
    }

    /// <summary>
    /// Whether a GOAWAY could reach the client now: not while the TLS handshake runs, nor on a tls-on port before the
    /// client's first byte (it expects a handshake, and plaintext would only confuse its TLS library).
    /// </summary>
    private bool CanSendFrames => _stage switch
    {
        TransportStage.Handshaking => false,
        TransportStage.Sniffing => _host.TlsMode == TlsMode.Optional,
        _ => true,
    };

    /// <summary>The hello deadline passed while the handshake (or, on a tls-on port, its first byte) was awaited.</summary>
    private bool HandshakeUnfinished => _stage == TransportStage.Handshaking || (_stage == TransportStage.Sniffing && _host.TlsMode == TlsMode.On);

    /// <summary>tls on or optional: waits for the first byte, then starts the handshake or the plain receive loop.</summary>
    private async Task SniffAsync()
    {
        _stage = TransportStage.Sniffing;
        try
        {
            // A zero-byte receive: waits for the first byte without a buffer.
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _stage = TransportStage.Plain;
            RequestClose(CloseReason.SocketError, e is SocketException se ? se.SocketErrorCode.ToString() : "socket closed");
            InputEnded();
            return;
        }
        switch (PeekFirstByte())
        {
            case TlsRecords.HandshakeRecord:
                await HandshakeAsync().ConfigureAwait(false);
                return;
            case < 0:
                _stage = TransportStage.Plain;
                ReceiveNext(); // end of stream or an error: the plain loop sees it and closes the usual way
                return;
            default:
                _stage = TransportStage.Plain;
                if (_host.TlsMode == TlsMode.On) RequestClose(CloseReason.TlsRequired, "the first byte is not a TLS handshake");
                ReceiveNext(); // plain frames, or (tls on) the lingering close after the GOAWAY
                return;
        }
    }

    /// <summary>The first byte, left in the socket; -1 at end of stream or on an error.</summary>
    private int PeekFirstByte()
    {
        Span<byte> first = stackalloc byte[1];
        try
        {
            int peeked = _socket.Receive(first, SocketFlags.Peek, out SocketError error);
            return error == SocketError.Success && peeked == 1 ? first[0] : -1;
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
    }

    private async Task HandshakeAsync()
    {
        _stage = TransportStage.Handshaking;
        var tls = new SslStream(new CipherStream(_socket), leaveInnerStreamOpen: false);
        _tls = tls;
        try
        {
            // Bounded by the hello deadline, armed at Start: it closes the socket, which ends the handshake.
            await tls.AuthenticateAsServerAsync(_host.Tls!.Options, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            RequestClose(CloseReason.TlsHandshakeFailed, HandshakeError(e));
            InputEnded();
            return;
        }
        _stage = TransportStage.Tls;
        IdleTlsBuffers.TryRelease(tls); // an idle TLS connection then holds no OpenSSL record buffers
        await ReceiveTlsAsync().ConfigureAwait(false);
    }

    // What the log says about a failed handshake: the library's message (it names the alert or the malformed record,
    // never key material), with the inner one when the outer is generic.
    private static string HandshakeError(Exception e) =>
        e.InnerException is { } inner && inner.Message != e.Message ? $"{e.Message} ({inner.Message})" : e.Message;

    private static string EndedAfterHandshake(Exception? e) =>
        "the client ended the connection after the handshake, before any frame (did it refuse the certificate?)" + (e is null ? "" : ": " + HandshakeError(e));

    /// <summary>
    /// The TLS receive loop: plaintext from the SslStream into the pipe, parsed as a plain read is. A zero-byte read
    /// first when the connection was idle. Returns while a request waits on the backplane (<see cref="ResumeReceiving"/>
    /// starts it again) and when the input ends; once closing, the raw socket is drained as for a plain connection.
    /// </summary>
    private async Task ReceiveTlsAsync()
    {
        SslStream tls = _tls!;
        try
        {
            while (!IsClosing)
            {
                if (_pipe is null && !_lastReadFilled)
                {
                    await tls.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
                    if (IsClosing) break;
                }
                _pipe ??= _host.Buffers.RentPipe();
                _readingData = true;
                Memory<byte> memory = _pipe.Writer.GetMemory(1);
                int received = await tls.ReadAsync(memory).ConfigureAwait(false);
                if (received > 0) _tlsPlaintextSeen = true;
                else if (!_tlsPlaintextSeen) RequestClose(CloseReason.TlsHandshakeFailed, EndedAfterHandshake(null));
                if (!OnBytesReceived(received, memory.Length, SocketError.Success)) return;
            }
            DrainInput();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
            _readingData = false;
            if (_tlsPlaintextSeen) RequestClose(CloseReason.SocketError, HandshakeError(e));
            else RequestClose(CloseReason.TlsHandshakeFailed, EndedAfterHandshake(e));
            InputEnded();
        }
        catch (Exception e)
        {
            _readingData = false;
            ReceiveFailed(e);
        }
    }

    /// <summary>
    /// With <see cref="_sending"/> owned: one SslStream write of <paramref name="batch"/> (encrypted, then one non-blocking
    /// send when it fits). True when it went out whole; false when it finishes asynchronously or failed.
    /// </summary>
    private bool SendTakenTls(FrameBuffer batch)
    {
        _host.Counters.CountBytesSent(batch.WrittenCount);
        ValueTask write;
        try
        {
            write = _tls!.WriteAsync(batch.WrittenMemory);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            SendFailed(batch, SocketErrorOf(e));
            return false;
        }
        if (write.IsCompletedSuccessfully)
        {
            Outbound.CompleteBatch(batch);
            return true;
        }
        _ = FinishTlsSendAsync(batch, write);
        return false;
    }

    private async Task FinishTlsSendAsync(FrameBuffer batch, ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            SendFailed(batch, SocketErrorOf(e));
            return;
        }
        catch (Exception e)
        {
            SendCrashed(e);
            return;
        }
        try
        {
            Outbound.CompleteBatch(batch);
            SendLoop();
        }
        catch (Exception e)
        {
            SendCrashed(e);
        }
    }

    private static SocketError SocketErrorOf(Exception e) => e switch
    {
        SocketException se => se.SocketErrorCode,
        { InnerException: SocketException inner } => inner.SocketErrorCode,
        _ => SocketError.OperationAborted,
    };

    /// <summary>The TLS session's native state goes with the connection (not with its finalizer).</summary>
    private void DisposeTls() => _tls?.Dispose();
}
