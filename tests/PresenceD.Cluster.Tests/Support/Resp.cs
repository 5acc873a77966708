using System.Globalization;
using System.Net.Sockets;
using System.Text;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Support;

/// <summary>An error reply of Redis (MOVED, LOADING, ...).</summary>
internal sealed class RedisReplyException(string message) : Exception(message);

/// <summary>A minimal RESP2 client for the tests' own checks of Redis (one command per connection, replies parsed fully).</summary>
internal static class Resp
{
    public static async Task<object?> RequestAsync(int port, string[] arguments)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await socket.ConnectAsync(Ports.Loopback(port), timeout.Token);
        await using var stream = new NetworkStream(socket);
        var request = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{arguments.Length}\r\n");
        foreach (string argument in arguments) request.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(argument)}\r\n{argument}\r\n");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), timeout.Token);
        var reader = new BufferedStream(stream);
        return await ReadAsync(reader, string.Join(' ', arguments.Take(2)), timeout.Token);
    }

    /// <summary>A reply as text: arrays flattened one item per line.</summary>
    public static string? Text(object? reply) => reply switch
    {
        null => null,
        string s => s,
        long n => n.ToString(CultureInfo.InvariantCulture),
        List<object?> items => string.Join('\n', items.Select(Text)),
        _ => reply.ToString(),
    };

    private static async Task<object?> ReadAsync(Stream stream, string command, CancellationToken token)
    {
        string line = await ReadLineAsync(stream, token);
        switch (line[0])
        {
            case '+':
                return line[1..];
            case '-':
                throw new RedisReplyException($"redis answered {line[1..]} to {command}");
            case ':':
                return long.Parse(line[1..], CultureInfo.InvariantCulture);
            case '$':
                int length = int.Parse(line[1..], CultureInfo.InvariantCulture);
                if (length < 0) return null;
                byte[] bytes = new byte[length + 2];
                await stream.ReadExactlyAsync(bytes, token);
                return Encoding.UTF8.GetString(bytes, 0, length);
            case '*':
                int count = int.Parse(line[1..], CultureInfo.InvariantCulture);
                if (count < 0) return null;
                var items = new List<object?>(count);
                for (int i = 0; i < count; i++) items.Add(await ReadAsync(stream, command, token));
                return items;
            default:
                throw new InvalidOperationException($"unexpected RESP line {line}");
        }
    }

    private static async Task<string> ReadLineAsync(Stream stream, CancellationToken token)
    {
        var line = new StringBuilder();
        byte[] one = new byte[1];
        while (true)
        {
            await stream.ReadExactlyAsync(one, token);
            if (one[0] == '\n') return line.ToString().TrimEnd('\r');
            line.Append((char)one[0]);
        }
    }
}
