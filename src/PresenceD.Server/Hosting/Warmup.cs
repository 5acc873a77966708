using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Dispatch.Auth;

namespace PresenceD.Server.Hosting;

/// <summary>
/// Runs one session through the daemon's own port at start (HELLO, JOIN, PUBLISH, UPDATE, PRESENCE,
/// COUNT, ONLINE, PING, LEAVE, BYE), so the code on every request path is compiled before the first real
/// client arrives: early clients see steady-state latency, and the memory the JIT needs is taken once,
/// up front. With auth jwt it signs a short-lived token with a one-off key the verifier accepts for the warm-up
/// user only and only while it runs (the daemon may hold no signing key at all: public keys, RS256/ES256), so the
/// session is a valid one that ends with BYE, not a refused HELLO counted as a client's auth failure. With tls on
/// the session runs over TLS (compiling that path too); the certificate must be the daemon's own (its names are not checked).
/// Best effort: a failure is logged and changes nothing else.
/// </summary>
internal static class Warmup
{
    private const string Name = "presenced-warmup";

    public static async Task RunAsync(PresenceServer server, ILogger log, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            // With auth jwt the verifier lets in a token of a one-off key for the warm-up user, for this session only.
            using JwtVerifier.WarmupGrant? grant = server.Jwt?.AllowWarmup(Name);
            string credential = grant is null ? Name : grant.Token(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 60, Name);
            IPEndPoint endPoint = server.EndPoint;
            IPAddress address = endPoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
                : endPoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : endPoint.Address;
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cts.Token);
            await using Stream stream = await OpenAsync(server, socket, cts.Token);
            using var frames = new FrameBuffer(512);
            ClientFrames.Hello(frames, 1, credential, Name);
            ClientFrames.Join(frames, 2, Name, [1], hasMeta: true, will: [2], hasWill: true);
            ClientFrames.Publish(frames, 3, Name, [3]);
            ClientFrames.Update(frames, 4, Name, [4], hasMeta: true);
            ClientFrames.Presence(frames, 5, Name);
            ClientFrames.Count(frames, 6, Name);
            ClientFrames.Online(frames, 7, [Name]);
            ClientFrames.Ping(frames, 8);
            ClientFrames.Leave(frames, 9, Name);
            ClientFrames.Bye(frames);
            await stream.WriteAsync(frames.WrittenMemory, cts.Token);
            var buffer = new byte[4096];
            while (await stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ProtocolException or IOException or AuthenticationException)
        {
            log.LogWarning("warm-up skipped: {Error}", e.Message);
        }
    }

    /// <summary>The PROXY header first when the listener expects one (UNKNOWN keeps the socket's own address), then TLS when the port speaks it.</summary>
    private static async Task<Stream> OpenAsync(PresenceServer server, Socket socket, CancellationToken cancel)
    {
        var plain = new NetworkStream(socket, ownsSocket: false);
        if (server.Options.Current.ProxyProtocol) await plain.WriteAsync("PROXY UNKNOWN\r\n"u8.ToArray(), cancel);
        if (server.Connections.TlsMode == Configuration.TlsMode.Off) return plain;
        byte[] own = server.Tls!.Credentials.Certificate.RawData;
        // The warm-up talks to this very daemon: the certificate must be its own, whatever names it holds.
        var tls = new SslStream(plain, leaveInnerStreamOpen: false, (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(own));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, cancel);
        return tls;
    }
}
