using System.Net;

namespace PresenceD.Load.Net;

/// <summary>Opens many load connections in parallel, spreading them over source addresses 127.0.0.2, .3, ... when asked.</summary>
internal static class ConnectionOpener
{
    /// <summary>Connections per source address before the next one is used (the ephemeral port range is ~28k).</summary>
    public const int ConnectionsPerSourceAddress = 25_000;

    /// <summary>Source addresses to use for <paramref name="count"/> connections: the explicit choice, else enough to stay in range.</summary>
    public static int SourceAddressCount(int count, int requested, IPAddress server)
    {
        if (requested >= 0) return requested;
        if (!IPAddress.IsLoopback(server) || server.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return 0;
        return count > ConnectionsPerSourceAddress ? (count + ConnectionsPerSourceAddress - 1) / ConnectionsPerSourceAddress : 0;
    }

    /// <summary>The source address of connection <paramref name="index"/> when <paramref name="addresses"/> are in use.</summary>
    public static IPAddress? SourceAddress(int index, int addresses)
    {
        if (addresses <= 0) return null;
        if (addresses > 250) throw new ArgumentOutOfRangeException(nameof(addresses), "at most 250 source addresses (127.0.0.2-127.0.0.251)");
        return new IPAddress([127, 0, 0, (byte)(2 + index % addresses)]);
    }

    /// <summary>
    /// Opens <paramref name="count"/> connections as users named by <paramref name="userOf"/>, runs <paramref name="setup"/> on
    /// each (e.g. a JOIN), <paramref name="parallel"/> at a time. A connection that fails is left null and counted as an error.
    /// </summary>
    public static async Task<LoadConnection?[]> OpenManyAsync(LoadContext context, int count, Func<int, string> userOf,
        Action<int, LoadConnection> setup, int parallel = 64)
    {
        int sources = SourceAddressCount(count, context.Options.SourceAddresses, context.Targets[0].Endpoint.Address);
        var connections = new LoadConnection?[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count),
            new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = context.Cancellation },
            async (i, cancellation) =>
            {
                try
                {
                    LoadTarget target = context.TargetFor(i);
                    LoadConnection connection = await LoadConnection.OpenAsync(target.Endpoint, SourceAddress(i, sources), userOf(i), context.Stats, target.Tls, cancellation);
                    setup(i, connection);
                    connection.Flush();
                    context.Heartbeats.Add(connection);
                    connections[i] = connection;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    context.Stats.Error("connect: " + (e is System.Net.Sockets.SocketException s ? s.SocketErrorCode.ToString() : e.Message));
                }
            });
        return connections;
    }

    public static void CloseAll(LoadContext context, IEnumerable<LoadConnection?> connections)
    {
        foreach (LoadConnection? connection in connections)
        {
            if (connection is null) continue;
            context.Heartbeats.Remove(connection);
            connection.Close(bye: false);
        }
    }
}
