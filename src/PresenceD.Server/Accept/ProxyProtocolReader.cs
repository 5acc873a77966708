using System.Net;
using System.Net.Sockets;

namespace PresenceD.Server.Accept;

/// <summary>
/// Reads a PROXY v1/v2 header off a fresh socket, consuming exactly its bytes so the client's first
/// frame stays in the socket for the connection. v1 lines are found by peeking and then consuming up to
/// the CRLF; v2 has its length in the fixed part. Throws <see cref="InvalidDataException"/> for a missing
/// or malformed header and <see cref="OperationCanceledException"/> when it does not arrive in time.
/// </summary>
internal static class ProxyProtocolReader
{
    /// <summary>The client's endpoint from the header, or the socket's peer for LOCAL/UNKNOWN headers.</summary>
    public static async Task<EndPoint?> ReadAsync(Socket socket, TimeSpan timeout, CancellationToken stop)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(timeout);
        CancellationToken cancel = deadline.Token;
        byte[] buffer = new byte[ProxyHeader.V1MaxLength];
        await ReceiveExactlyAsync(socket, buffer.AsMemory(0, ProxyHeader.PrefixLength), cancel);
        IPEndPoint? source;
        if (ProxyHeader.IsV1(buffer.AsSpan(0, ProxyHeader.PrefixLength)))
        {
            int length = await ReceiveLineAsync(socket, buffer, ProxyHeader.PrefixLength, cancel);
            source = ProxyHeader.ParseV1(buffer.AsSpan(0, length));
        }
        else if (ProxyHeader.IsV2(buffer.AsSpan(0, ProxyHeader.PrefixLength)))
        {
            await ReceiveExactlyAsync(socket, buffer.AsMemory(ProxyHeader.PrefixLength, ProxyHeader.V2FixedLength - ProxyHeader.PrefixLength), cancel);
            byte[] fixedPart = buffer[..ProxyHeader.V2FixedLength];
            byte[] body = new byte[ProxyHeader.V2BodyLength(fixedPart)];
            await ReceiveExactlyAsync(socket, body, cancel);
            source = ProxyHeader.ParseV2(fixedPart, body);
        }
        else
        {
            throw new InvalidDataException("no PROXY protocol header (proxy_protocol is on)");
        }
        return source ?? socket.RemoteEndPoint;
    }

    /// <summary>Consumes bytes up to and including the first LF; returns the line's length.</summary>
    private static async Task<int> ReceiveLineAsync(Socket socket, byte[] line, int have, CancellationToken cancel)
    {
        while (have < line.Length)
        {
            // Peek waits for data, then shows what is there without consuming it; only header bytes are taken.
            int peeked = await socket.ReceiveAsync(line.AsMemory(have), SocketFlags.Peek, cancel);
            if (peeked == 0) throw new InvalidDataException("connection closed inside the PROXY header");
            int newline = line.AsSpan(have, peeked).IndexOf((byte)'\n');
            int take = newline < 0 ? peeked : newline + 1;
            await ReceiveExactlyAsync(socket, line.AsMemory(have, take), cancel);
            have += take;
            if (newline >= 0) return have;
        }
        throw new InvalidDataException("PROXY v1 line longer than 107 bytes");
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> target, CancellationToken cancel)
    {
        while (!target.IsEmpty)
        {
            int read = await socket.ReceiveAsync(target, SocketFlags.None, cancel);
            if (read == 0) throw new InvalidDataException("connection closed inside the PROXY header");
            target = target[read..];
        }
    }
}
