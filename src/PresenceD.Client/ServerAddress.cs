using System;
using System.Globalization;

namespace PresenceD.Client;

/// <summary>A "host:port" server address ("[::1]:7400" for IPv6 literals).</summary>
public readonly struct ServerAddress : IEquatable<ServerAddress>
{
    /// <summary>The port PresenceD listens on by default.</summary>
    public const int DefaultPort = 7400;

    /// <summary>Creates an address.</summary>
    public ServerAddress(string host, int port)
    {
        Host = host;
        Port = port;
    }

    /// <summary>Host name or IP address.</summary>
    public string Host { get; }

    /// <summary>TCP port.</summary>
    public int Port { get; }

    /// <summary>Parses "host:port", "host" (default port) or "[v6]:port".</summary>
    public static bool TryParse(string? text, out ServerAddress address)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        string value = text!.Trim();
        string host;
        string? portText;
        if (value.Length > 0 && value[0] == '[')
        {
            int close = value.IndexOf(']');
            if (close < 2) return false;
            host = value.Substring(1, close - 1);
            string rest = value.Substring(close + 1);
            if (rest.Length == 0) portText = null;
            else if (rest[0] == ':') portText = rest.Substring(1);
            else return false;
        }
        else
        {
            int colon = value.LastIndexOf(':');
            if (colon >= 0 && value.IndexOf(':') != colon) return false;
            host = colon < 0 ? value : value.Substring(0, colon);
            portText = colon < 0 ? null : value.Substring(colon + 1);
        }
        if (host.Length == 0) return false;
        int port = DefaultPort;
        if (portText is not null &&
            (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port < 1 || port > 65535))
            return false;
        address = new ServerAddress(host, port);
        return true;
    }

    /// <summary>Parses like <see cref="TryParse"/>, throwing <see cref="FormatException"/> when invalid.</summary>
    public static ServerAddress Parse(string text) =>
        TryParse(text, out ServerAddress address) ? address : throw new FormatException($"'{text}' is not host:port");

    /// <inheritdoc />
    public override string ToString() =>
        Host.Contains(':') ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <inheritdoc />
    public bool Equals(ServerAddress other) => string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase) && Port == other.Port;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ServerAddress other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Host) ^ Port;

    /// <summary>Equality.</summary>
    public static bool operator ==(ServerAddress left, ServerAddress right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(ServerAddress left, ServerAddress right) => !left.Equals(right);
}
