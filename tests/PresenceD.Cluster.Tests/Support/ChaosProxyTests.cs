using System.Net;
using System.Net.Sockets;
using System.Text;
using PresenceD.Tests.Shared;
using Xunit;

namespace PresenceD.Cluster.Tests.Support;

/// <summary>The chaos proxy breaks links exactly as it says, or the tests built on it prove nothing.</summary>
public sealed class ChaosProxyTests : IAsyncLifetime
{
    private readonly Socket _echoListener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private ChaosProxy _proxy = null!;

    public Task InitializeAsync()
    {
        _echoListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _echoListener.Listen(64);
        _ = Task.Run(EchoLoopAsync);
        _proxy = ChaosProxy.Start(((IPEndPoint)_echoListener.LocalEndPoint!).Port);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        _stop.Cancel();
        _echoListener.Dispose();
        _stop.Dispose();
    }

    [Fact]
    public async Task Forwards_both_ways_in_order()
    {
        using Socket client = await ConnectAsync();
        for (int i = 0; i < 50; i++)
        {
            await SendAsync(client, $"line {i};");
        }
        string expected = string.Concat(Enumerable.Range(0, 50).Select(i => $"line {i};"));
        Assert.Equal(expected, await ReceiveAsync(client, expected.Length));
    }

    [Fact]
    public async Task Blackhole_holds_bytes_without_closing_and_heal_delivers_them()
    {
        using Socket client = await ConnectAsync();
        await SendAsync(client, "before;");
        Assert.Equal("before;", await ReceiveAsync(client, 7));

        _proxy.Blackhole();
        await SendAsync(client, "held;");
        // Silence is what is checked here: nothing may come back while the link is blackholed.
        Task<int> pending = client.ReceiveAsync(new byte[16], SocketFlags.None);
        Assert.False(await Completes(pending, TimeSpan.FromMilliseconds(300)), "bytes crossed a blackholed link");
        Assert.Equal(1, _proxy.OpenLinks);

        _proxy.Heal();
        Assert.Equal(5, await pending);
    }

    [Fact]
    public async Task Delay_keeps_order()
    {
        _proxy.Delay(TimeSpan.FromMilliseconds(20));
        using Socket client = await ConnectAsync();
        string expected = string.Concat(Enumerable.Range(0, 20).Select(i => $"{i:D2};"));
        foreach (int i in Enumerable.Range(0, 20))
        {
            await SendAsync(client, $"{i:D2};");
        }
        Assert.Equal(expected, await ReceiveAsync(client, expected.Length));
    }

    [Fact]
    public async Task Cut_resets_open_links_and_refuses_new_ones_until_heal()
    {
        using Socket open = await ConnectAsync();
        await SendAsync(open, "x");
        Assert.Equal("x", await ReceiveAsync(open, 1));

        _proxy.Cut();
        await Assert.ThrowsAnyAsync<SocketException>(async () =>
        {
            // A reset link fails the next read (or returns end of stream first on some kernels; then the write fails).
            if (await open.ReceiveAsync(new byte[1], SocketFlags.None) == 0) throw new SocketException((int)SocketError.ConnectionReset);
        });
        Assert.True(await IsRefusedAsync(), "a new connection got through a cut link");

        _proxy.Heal();
        using Socket again = await ConnectAsync();
        await SendAsync(again, "y");
        Assert.Equal("y", await ReceiveAsync(again, 1));
    }

    /// <summary>True when a new connection is reset: at connect, or at the first read (the kernel may finish the
    /// handshake before the proxy accepts and resets it).</summary>
    private async Task<bool> IsRefusedAsync()
    {
        try
        {
            using Socket socket = await ConnectAsync();
            await SendAsync(socket, "z");
            return await socket.ReceiveAsync(new byte[1], SocketFlags.None) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private static async Task<bool> Completes(Task task, TimeSpan within) => await Task.WhenAny(task, Task.Delay(within)) == task;

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, _proxy.Port);
        return socket;
    }

    private static async Task SendAsync(Socket socket, string text) => await socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

    private static async Task<string> ReceiveAsync(Socket socket, int length)
    {
        byte[] buffer = new byte[length];
        int got = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (got < length)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, timeout.Token);
            if (read == 0) break;
            got += read;
        }
        return Encoding.ASCII.GetString(buffer, 0, got);
    }

    private async Task EchoLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket peer;
            try
            {
                peer = await _echoListener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return; // the test is over
            }
            _ = Task.Run(async () =>
            {
                using (peer)
                {
                    byte[] buffer = new byte[4096];
                    try
                    {
                        int read;
                        while ((read = await peer.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                        {
                            await peer.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                        }
                    }
                    catch (SocketException)
                    {
                        // The proxy reset this link: the echo side just ends.
                    }
                }
            });
        }
    }
}
