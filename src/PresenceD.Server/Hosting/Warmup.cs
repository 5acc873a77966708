using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;

namespace PresenceD.Server.Hosting;

/// <summary>
/// Runs one session through the daemon's own port at start (HELLO, JOIN, PUBLISH, UPDATE, PRESENCE,
/// COUNT, ONLINE, PING, LEAVE, BYE), so the code on every request path is compiled before the first real
/// client arrives: early clients see steady-state latency, and the memory the JIT needs is taken once,
/// up front. Best effort: a failure is logged and changes nothing else.
/// </summary>
internal static class Warmup
{
    private const string Name = "presenced-warmup";

    public static async Task RunAsync(PresenceServer server, ILogger log, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            IPEndPoint endPoint = server.EndPoint;
            IPAddress address = endPoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
                : endPoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : endPoint.Address;
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cts.Token);
            using var frames = new FrameBuffer(512);
            // Behind HAProxy the listener expects a PROXY header first; UNKNOWN keeps the socket's own address.
            if (server.Options.Current.ProxyProtocol) frames.Write("PROXY UNKNOWN\r\n"u8);
            ClientFrames.Hello(frames, 1, server.HasJwt ? null : Name, Name);
            await SendAsync(socket, frames, cts.Token);
            if (server.HasJwt) return; // no token of our own: HELLO's path is warm, the rest stays cold
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

    private static async Task SendAsync(Socket socket, FrameBuffer frames, CancellationToken cancel)
    {
        ReadOnlyMemory<byte> data = frames.WrittenMemory;
        while (!data.IsEmpty) data = data[await socket.SendAsync(data, SocketFlags.None, cancel)..];
        frames.Clear();
    }
}
