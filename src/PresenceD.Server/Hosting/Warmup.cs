using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;

namespace PresenceD.Server.Hosting;

/// <summary>
/// Runs one session through the daemon's own port at start (HELLO, JOIN, PUBLISH, UPDATE, PRESENCE,
/// COUNT, ONLINE, PING, LEAVE, BYE), so the code on every request path is compiled before the first real
/// client arrives: early clients see steady-state latency, and the memory the JIT needs is taken once,
/// up front. With auth jwt it signs a short-lived token of its own with the daemon's secret, so the session
/// is a valid one that ends with BYE, not a refused HELLO counted as a client's auth failure.
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
            string why = "";
            string? credential = server.Jwt is null ? Name : WarmupToken(server, out why);
            if (credential is null)
            {
                log.LogWarning("warm-up skipped: {Error}", why);
                return;
            }
            IPEndPoint endPoint = server.EndPoint;
            IPAddress address = endPoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
                : endPoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : endPoint.Address;
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cts.Token);
            using var frames = new FrameBuffer(512);
            // Behind HAProxy the listener expects a PROXY header first; UNKNOWN keeps the socket's own address.
            if (server.Options.Current.ProxyProtocol) frames.Write("PROXY UNKNOWN\r\n"u8);
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
            await SendAsync(socket, frames, cts.Token);
            var buffer = new byte[4096];
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ProtocolException)
        {
            log.LogWarning("warm-up skipped: {Error}", e.Message);
        }
    }

    /// <summary>
    /// An HS256 token for the warm-up user and room, valid for a minute, signed with the secret the daemon
    /// verifies with; checked by the daemon's own verifier before use, so a warm-up never sends a bad credential.
    /// </summary>
    private static string? WarmupToken(PresenceServer server, out string why)
    {
        byte[] secret;
        try
        {
            secret = File.ReadAllBytes(server.Options.Current.JwtSecretFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = $"cannot read jwt_secret_file: {e.Message}";
            return null;
        }
        int length = secret.Length;
        while (length > 0 && secret[length - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') length--;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string header = Base64Url.EncodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"u8);
        string claims = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{{\"sub\":\"{Name}\",\"exp\":{now + 60},\"rooms\":[\"{Name}\"]}}"));
        string signed = header + "." + claims;
        string token = signed + "." + Base64Url.EncodeToString(HMACSHA256.HashData(secret.AsSpan(0, length), Encoding.ASCII.GetBytes(signed)));
        if (server.Jwt!.Verify(token, now, (long)server.Options.Current.JwtLeeway.TotalSeconds, out string error) is null)
        {
            why = $"the warm-up token does not verify ({error})";
            return null;
        }
        why = "";
        return token;
    }

    private static async Task SendAsync(Socket socket, FrameBuffer frames, CancellationToken cancel)
    {
        ReadOnlyMemory<byte> data = frames.WrittenMemory;
        while (!data.IsEmpty) data = data[await socket.SendAsync(data, SocketFlags.None, cancel)..];
        frames.Clear();
    }
}
