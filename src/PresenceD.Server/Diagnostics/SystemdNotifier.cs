using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The sd_notify protocol spoken directly: one datagram of "KEY=value" lines per message to the
/// AF_UNIX socket systemd names in <c>$NOTIFY_SOCKET</c> (a path, or "@name" for the abstract namespace).
/// <c>$WATCHDOG_USEC</c> (for this pid, per <c>$WATCHDOG_PID</c>) gives the watchdog interval.
/// </summary>
internal sealed class SystemdNotifier : IDisposable
{
    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _target;

    public SystemdNotifier(string socketPath, TimeSpan? watchdogInterval)
    {
        _target = new UnixDomainSocketEndPoint(socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        WatchdogInterval = watchdogInterval;
    }

    /// <summary>How often systemd expects WATCHDOG=1 at the latest; null when the watchdog is off.</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>The notifier systemd asked for, or null when <c>$NOTIFY_SOCKET</c> is unset (not run by systemd).</summary>
    public static SystemdNotifier? FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    public static SystemdNotifier? FromEnvironment(Func<string, string?> variable)
    {
        string? socket = variable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(socket)) return null;
        return new SystemdNotifier(socket, WatchdogFromEnvironment(variable));
    }

    private static TimeSpan? WatchdogFromEnvironment(Func<string, string?> variable)
    {
        string? pid = variable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture)) return null;
        string? usec = variable("WATCHDOG_USEC");
        return long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out long microseconds) && microseconds > 0
            ? TimeSpan.FromMicroseconds(microseconds)
            : null;
    }

    /// <summary>Sends one message ("READY=1\nSTATUS=..."); false when systemd is not listening (never throws).</summary>
    public bool Send(string state)
    {
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _target);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();
}
