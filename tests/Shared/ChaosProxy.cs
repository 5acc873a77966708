using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace PresenceD.Tests.Shared;

/// <summary>
/// A TCP proxy on loopback that a test puts between a client (a node) and a server (Redis) to break the link the
/// ways networks do: <see cref="Blackhole"/> (nothing moves, nothing closes: a pulled cable or a dropped route, so
/// TCP neither delivers nor fails until it times out), <see cref="Delay"/> (every byte arrives later, in order),
/// <see cref="Cut"/> (every link is reset and new ones are refused: a closed firewall) and
/// <see cref="ResetLinks"/> (the open links are reset once; reconnecting works). <see cref="Heal"/> ends any of them.
/// Bytes held while blackholed are delivered on heal, as TCP's retransmission would deliver them.
/// </summary>
internal sealed class ChaosProxy : IAsyncDisposable
{
    private const int ChunkBytes = 16 * 1024;

    private readonly IPEndPoint _target;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Link, byte> _links = new();
    private readonly Task _acceptLoop;
    private readonly object _gate = new();

    // Completed while bytes may flow; replaced by a pending one while blackholed. Pumps await it before moving bytes.
    private TaskCompletionSource _flowing = Completed();
    private volatile bool _cut;
    private long _delayTicks;
    private long _bytesForwarded;

    private ChaosProxy(IPEndPoint target)
    {
        _target = target;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Starts a proxy on a free loopback port that forwards to <paramref name="targetPort"/> on 127.0.0.1.</summary>
    public static ChaosProxy Start(int targetPort) => new(Ports.Loopback(targetPort));

    public static ChaosProxy Start(IPEndPoint target) => new(target);

    /// <summary>The loopback port clients connect to instead of the target's.</summary>
    public int Port { get; }

    /// <summary>`127.0.0.1:port`, the form a `redis` setting takes.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>Client connections open through the proxy now.</summary>
    public int OpenLinks => _links.Count;

    /// <summary>Bytes delivered in either direction since the start.</summary>
    public long BytesForwarded => Interlocked.Read(ref _bytesForwarded);

    /// <summary>Stops moving bytes in both directions; every connection stays open and new ones are accepted but wait.</summary>
    public void Blackhole()
    {
        lock (_gate)
        {
            if (_flowing.Task.IsCompleted)
            {
                _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Delivers every chunk <paramref name="delay"/> after it was read, in order, in both directions.</summary>
    public void Delay(TimeSpan delay) => Interlocked.Exchange(ref _delayTicks, delay.Ticks);

    /// <summary>Resets every open link (RST) and resets each new one at once, until <see cref="Heal"/>.</summary>
    public void Cut()
    {
        _cut = true;
        ResetLinks();
    }

    /// <summary>Resets every open link (RST) once; new connections are forwarded as usual.</summary>
    public void ResetLinks()
    {
        foreach (Link link in _links.Keys)
        {
            link.Reset();
        }
    }

    /// <summary>Back to plain forwarding: no blackhole, no delay, no cut. Bytes held meanwhile flow now.</summary>
    public void Heal()
    {
        _cut = false;
        Interlocked.Exchange(ref _delayTicks, 0);
        lock (_gate)
        {
            _flowing.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        ResetLinks();
        Heal();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
            // The stop token ended the loop: that is the normal end.
        }
        _stop.Dispose();
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource();
        done.SetResult();
        return done;
    }

    private Task WhenFlowing()
    {
        lock (_gate)
        {
            return _flowing.Task;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException or OperationCanceledException)
            {
                return; // Disposed: the listener is gone.
            }

            if (_cut)
            {
                ResetAndClose(client);
                continue;
            }
            _ = Task.Run(() => RunLinkAsync(client));
        }
    }

    private async Task RunLinkAsync(Socket client)
    {
        client.NoDelay = true;
        var link = new Link(client);
        _links[link] = 0;
        try
        {
            // A blackhole swallows the SYN towards the server too: a link opened meanwhile waits for the heal.
            await WhenFlowing().WaitAsync(_stop.Token);
            await link.Server.ConnectAsync(_target, _stop.Token);
            link.Server.NoDelay = true;
            await Task.WhenAll(PumpAsync(link, link.Client, link.Server), PumpAsync(link, link.Server, link.Client));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The link broke (reset by a test, by either end, or the proxy stopped): close both ends.
        }
        finally
        {
            _links.TryRemove(link, out _);
            link.Reset();
        }
    }

    /// <summary>Moves bytes from <paramref name="from"/> to <paramref name="to"/>: a reader and a writer joined by a
    /// queue, so a delay holds each chunk for its due time without slowing the reads behind it.</summary>
    private async Task PumpAsync(Link link, Socket from, Socket to)
    {
        Channel<(byte[] Chunk, int Length, long Due)> queue = Channel.CreateUnbounded<(byte[], int, long)>(
            new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        Task writer = WriteAsync(link, queue.Reader, to);
        try
        {
            await ReadAsync(from, queue.Writer);
            queue.Writer.TryComplete();
            await writer;
            if (!link.IsReset)
            {
                to.Shutdown(SocketShutdown.Send); // FIN from this side: passed on after the bytes before it
            }
        }
        catch
        {
            // One direction broke: reset both, so the other direction's pump ends too instead of waiting forever.
            queue.Writer.TryComplete();
            link.Reset();
            throw;
        }
    }

    private async Task ReadAsync(Socket from, ChannelWriter<(byte[] Chunk, int Length, long Due)> queue)
    {
        while (true)
        {
            await WhenFlowing().WaitAsync(_stop.Token);
            byte[] chunk = new byte[ChunkBytes];
            int read = await from.ReceiveAsync(chunk, SocketFlags.None, _stop.Token);
            if (read == 0)
            {
                return;
            }
            TimeSpan delay = TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
            long due = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
            queue.TryWrite((chunk, read, due));
        }
    }

    private async Task WriteAsync(Link link, ChannelReader<(byte[] Chunk, int Length, long Due)> queue, Socket to)
    {
        try
        {
            await WriteChunksAsync(queue, to);
        }
        catch
        {
            link.Reset(); // the reader of this direction may be blocked in a receive: the reset ends it
            throw;
        }
    }

    private async Task WriteChunksAsync(ChannelReader<(byte[] Chunk, int Length, long Due)> queue, Socket to)
    {
        await foreach ((byte[] chunk, int length, long due) in queue.ReadAllAsync(_stop.Token))
        {
            TimeSpan wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _stop.Token);
            }
            await WhenFlowing().WaitAsync(_stop.Token);
            int sent = 0;
            while (sent < length)
            {
                sent += await to.SendAsync(chunk.AsMemory(sent, length - sent), SocketFlags.None, _stop.Token);
            }
            Interlocked.Add(ref _bytesForwarded, length);
        }
    }

    private static void ResetAndClose(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0); // close with RST, as a refusing firewall does
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: nothing left to reset.
        }
        socket.Dispose();
    }

    /// <summary>One client connection and the proxy's connection to the target for it.</summary>
    private sealed class Link(Socket client)
    {
        private int _reset;

        public Socket Client { get; } = client;

        public Socket Server { get; } = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        public bool IsReset => Volatile.Read(ref _reset) == 1;

        public void Reset()
        {
            if (Interlocked.Exchange(ref _reset, 1) == 1)
            {
                return;
            }
            ResetAndClose(Client);
            ResetAndClose(Server);
        }
    }
}
