using System;

namespace PresenceD.Client;

/// <summary>Settings of a <see cref="PresenceClient"/>.</summary>
public sealed class PresenceClientOptions
{
    /// <summary>Server host name or address (default 127.0.0.1).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Server port (default 7400).</summary>
    public int Port { get; set; } = ServerAddress.DefaultPort;

    /// <summary>HELLO credential: a JWT with <c>auth jwt</c>, the user id itself with <c>auth none</c>.</summary>
    public string? Credential { get; set; }

    /// <summary>Free-form client name the server shows in logs and metrics.</summary>
    public string? ClientName { get; set; } = "presenced-dotnet";

    /// <summary>How long a request waits for its reply (default 10 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long opening the TCP connection may take (default 10 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Reconnect after the connection is lost (default true). Not after the server refused the credential or the
    /// protocol version (GOAWAY AUTH, VERSION, PROTOCOL), and never for the first <see cref="PresenceClient.ConnectAsync"/>.
    /// </summary>
    public bool AutoReconnect { get; set; } = true;

    /// <summary>The reconnect back-off.</summary>
    public BackoffPolicy Backoff { get; set; } = new BackoffPolicy();

    /// <summary>Which thread raises events (default: a background task).</summary>
    public EventDispatchMode EventDispatch { get; set; } = EventDispatchMode.Background;

    /// <summary>Sets <see cref="Host"/> and <see cref="Port"/> from "host:port".</summary>
    public PresenceClientOptions WithServer(string address)
    {
        ServerAddress parsed = ServerAddress.Parse(address);
        Host = parsed.Host;
        Port = parsed.Port;
        return this;
    }
}
