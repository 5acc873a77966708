using System.Net.Sockets;
using System.Text;

namespace PresenceD.Operations.Tests.Support;

/// <summary>Plays systemd's side of sd_notify: an AF_UNIX datagram socket that collects what the daemon sends.</summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket;

    private NotifySocket(Socket socket, string address)
    {
        _socket = socket;
        Address = address;
    }

    /// <summary>The value for $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace).</summary>
    public string Address { get; }

    public static NotifySocket Bind(bool abstractName = false)
    {
        string name = "presenced-notify-" + Guid.NewGuid().ToString("N")[..12];
        string path = abstractName ? "\0" + name : Path.Combine(Path.GetTempPath(), name + ".sock");
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return new NotifySocket(socket, abstractName ? "@" + name : path);
    }

    /// <summary>The next datagram; fails the test when none arrives in time.</summary>
    public async Task<string> ReceiveAsync(TimeSpan timeout)
    {
        byte[] buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException("no sd_notify message in time");
        }
    }

    /// <summary>Reads messages until one contains <paramref name="fragment"/>; returns it and those before it.</summary>
    public async Task<(string Match, List<string> Before)> ReceiveUntilAsync(string fragment, TimeSpan timeout)
    {
        var before = new List<string>();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new Xunit.Sdk.XunitException($"no sd_notify message with {fragment}; got: {string.Join(" | ", before)}");
            string message = await ReceiveAsync(left);
            if (message.Contains(fragment, StringComparison.Ordinal)) return (message, before);
            before.Add(message);
        }
    }

    public void Dispose()
    {
        string? path = (_socket.LocalEndPoint as UnixDomainSocketEndPoint)?.ToString();
        _socket.Dispose();
        if (path is not null && path.StartsWith('/')) File.Delete(path);
    }
}
