using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using PresenceD.Server.Configuration;
using PresenceD.Server.Hosting;

namespace PresenceD.Server.Tests.Support;

/// <summary>A real daemon in this process on a free loopback port, with real sockets.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(PresenceServer server) => Server = server;

    public PresenceServer Server { get; }

    public IPEndPoint EndPoint => Server.EndPoint;

    public static TestServer Start(Action<ServerOptions>? configure = null)
    {
        var options = new ServerOptions { Bind = "127.0.0.1", Port = 0, TimerTick = TimeSpan.FromMilliseconds(20) };
        configure?.Invoke(options);
        var server = new PresenceServer(options, NullLoggerFactory.Instance);
        server.Start();
        return new TestServer(server);
    }

    public Task<TestClient> HelloAsync(string user) => TestClient.HelloAsync(EndPoint, user);

    public Task<TestClient> ConnectAsync() => TestClient.ConnectAsync(EndPoint);

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
