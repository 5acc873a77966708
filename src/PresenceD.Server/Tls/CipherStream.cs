using System.Net.Sockets;

namespace PresenceD.Server.Tls;

/// <summary>
/// The stream under a connection's <see cref="System.Net.Security.SslStream"/>: the non-blocking socket, with writes
/// tried synchronously first (as the plain send path does), so a record that fits the socket buffer costs one send(2)
/// and no task; only a full socket buffer finishes asynchronously. Reads are asynchronous receives; a zero-byte read
/// waits for data without a buffer, which SslStream passes through when it holds nothing, so an idle TLS connection
/// holds no receive buffer either.
/// </summary>
internal sealed class CipherStream(Socket socket) : Stream
{
    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int sent = socket.Send(buffer.Span, SocketFlags.None, out SocketError error);
        if (error == SocketError.Success && sent == buffer.Length) return default;
        if (error is SocketError.Success or SocketError.WouldBlock) return SendRestAsync(buffer[(error == SocketError.Success ? sent : 0)..], cancellationToken);
        return ValueTask.FromException(new SocketException((int)error));
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private async ValueTask SendRestAsync(ReadOnlyMemory<byte> rest, CancellationToken cancellationToken)
    {
        while (!rest.IsEmpty) rest = rest[await socket.SendAsync(rest, SocketFlags.None, cancellationToken).ConfigureAwait(false)..];
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    // SslStream is only ever used asynchronously here; a blocking call on this non-blocking socket would be a bug.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("CipherStream is asynchronous only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("CipherStream is asynchronous only");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
