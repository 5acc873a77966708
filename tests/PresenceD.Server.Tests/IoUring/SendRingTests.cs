using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using PresenceD.Server.IoUring;

namespace PresenceD.Server.Tests.IoUring;

/// <summary>
/// The io_uring send ring on real loopback sockets: what one submission does with many sockets, and the answers a
/// full socket, a reset peer and a closed descriptor get (the connection's send side acts on each).
/// </summary>
public sealed class SendRingTests : IDisposable
{
    private readonly SendRing _ring = SendRing.TryCreate(64, out string? error) ?? throw new InvalidOperationException("io_uring refused on this machine: " + error);
    private readonly List<Socket> _sockets = [];

    [Fact]
    public void One_submission_sends_to_every_socket_and_each_receiver_gets_exactly_its_bytes()
    {
        (Socket sender, Socket receiver)[] pairs = Enumerable.Range(0, 50).Select(_ => ConnectedPair()).ToArray();
        byte[][] payloads = pairs.Select((_, i) => Pinned(Enumerable.Range(0, 80 + i).Select(b => (byte)(b + i)).ToArray())).ToArray();
        for (int i = 0; i < pairs.Length; i++) _ring.PrepareSend(Fd(pairs[i].sender), Address(payloads[i]), payloads[i].Length, slot: i);
        Assert.Equal(pairs.Length, _ring.Prepared);

        int[] results = new int[_ring.Capacity];
        _ring.SubmitAndWait(results);

        Assert.Equal(0, _ring.Prepared);
        for (int i = 0; i < pairs.Length; i++)
        {
            Assert.Equal(payloads[i].Length, results[i]);
            Assert.Equal(payloads[i], ReceiveExactly(pairs[i].receiver, payloads[i].Length));
        }
    }

    [Fact]
    public void A_full_socket_answers_EAGAIN_at_once_and_the_next_submission_still_works()
    {
        (Socket sender, Socket receiver) = ConnectedPair();
        sender.SendBufferSize = 4096;
        receiver.ReceiveBufferSize = 4096;
        byte[] chunk = Pinned(new byte[64 * 1024]);
        int[] results = new int[_ring.Capacity];
        int sentInAll = 0;
        // The receiver never reads: the socket fills, and a send that fits nothing is answered -EAGAIN, not held.
        for (int round = 0; round < 1000; round++)
        {
            _ring.PrepareSend(Fd(sender), Address(chunk), chunk.Length, slot: 0);
            _ring.SubmitAndWait(results);
            if (results[0] == -11) break;
            Assert.True(results[0] > 0, $"round {round}: {results[0]}");
            sentInAll += results[0];
        }
        Assert.Equal(-11, results[0]);
        Assert.True(sentInAll > 0);

        // Draining the receiver makes room again: the same ring sends on.
        byte[] drained = ReceiveExactly(receiver, sentInAll);
        Assert.Equal(sentInAll, drained.Length);
        byte[] small = Pinned([1, 2, 3]);
        _ring.PrepareSend(Fd(sender), Address(small), small.Length, slot: 0);
        _ring.SubmitAndWait(results);
        Assert.Equal(3, results[0]);
        Assert.Equal(small, ReceiveExactly(receiver, 3));
    }

    [Fact]
    public void A_peer_that_reset_and_a_closed_descriptor_get_their_errno_while_the_other_sends_of_the_batch_go_through()
    {
        (Socket healthy, Socket healthyPeer) = ConnectedPair();
        (Socket reset, Socket resetPeer) = ConnectedPair();
        resetPeer.LingerState = new LingerOption(true, 0);
        resetPeer.Close(); // RST
        Assert.True(SpinWait.SpinUntil(() => reset.Poll(0, SelectMode.SelectRead), TimeSpan.FromSeconds(5)), "the reset to arrive");
        byte[] payload = Pinned([9, 8, 7, 6]);

        int[] results = new int[_ring.Capacity];
        _ring.PrepareSend(Fd(reset), Address(payload), payload.Length, slot: 0);
        _ring.PrepareSend(-1, Address(payload), payload.Length, slot: 1);
        _ring.PrepareSend(Fd(healthy), Address(payload), payload.Length, slot: 2);
        _ring.SubmitAndWait(results);

        Assert.Contains(results[0], new[] { -104, -32 }); // ECONNRESET, or EPIPE once the reset was taken
        Assert.Equal(-9, results[1]); // EBADF
        Assert.Equal(payload.Length, results[2]);
        Assert.Equal(payload, ReceiveExactly(healthyPeer, payload.Length));
    }

    [Fact]
    public void Preparing_more_sends_than_the_ring_holds_is_refused_before_anything_is_submitted()
    {
        (Socket sender, Socket receiver) = ConnectedPair();
        byte[] payload = Pinned([1]);
        for (int i = 0; i < _ring.Capacity; i++) _ring.PrepareSend(Fd(sender), Address(payload), 1, slot: i);
        Assert.Throws<InvalidOperationException>(() => _ring.PrepareSend(Fd(sender), Address(payload), 1, slot: 0));

        int[] results = new int[_ring.Capacity];
        _ring.SubmitAndWait(results);
        Assert.All(results, r => Assert.Equal(1, r));
        Assert.Equal(_ring.Capacity, ReceiveExactly(receiver, _ring.Capacity).Length);
    }

    [Fact]
    public void A_ring_the_kernel_cannot_make_is_null_with_the_reason()
    {
        SendRing? ring = SendRing.TryCreate(0, out string? error); // zero entries: EINVAL
        Assert.Null(ring);
        Assert.Contains("EINVAL", error);
    }

    public void Dispose()
    {
        _ring.Dispose();
        foreach (Socket socket in _sockets) socket.Dispose();
    }

    private (Socket, Socket) ConnectedPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Connect(listener.LocalEndPoint!);
        Socket accepted = listener.Accept();
        _sockets.Add(client);
        _sockets.Add(accepted);
        return (accepted, client);
    }

    private static int Fd(Socket socket) => (int)socket.SafeHandle.DangerousGetHandle();

    // The ring reads these while the kernel runs: like the send pool's arrays, they are on the pinned heap.
    private static byte[] Pinned(byte[] bytes)
    {
        byte[] pinned = GC.AllocateUninitializedArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(pinned, 0);
        return pinned;
    }

    private static nint Address(byte[] pinned) => Marshal.UnsafeAddrOfPinnedArrayElement(pinned, 0);

    private static byte[] ReceiveExactly(Socket socket, int length)
    {
        byte[] buffer = new byte[length];
        int read = 0;
        socket.ReceiveTimeout = 5000;
        while (read < length)
        {
            int n = socket.Receive(buffer, read, length - read, SocketFlags.None);
            if (n == 0) throw new EndOfStreamException($"closed after {read} of {length} bytes");
            read += n;
        }
        return buffer;
    }
}
