using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace PresenceD.Server.Tls;

/// <summary>
/// Asks OpenSSL to give back a TLS connection's record buffers whenever they are empty (SSL_MODE_RELEASE_BUFFERS,
/// which nginx and HAProxy set too). Without it every idle TLS connection keeps about 26 KB of OpenSSL buffers
/// (measured here with 8,000 idle connections: 28.9 KB per TLS connection without it, 20.0 KB with it, 2.1 KB plain). .NET does not set the mode and exposes
/// no switch for it, so this reaches the connection's SSL handle through SslStream's private field: checked by type
/// name first, and when any step is not as expected (another .NET version, another platform) the connection simply
/// keeps its buffers, and <see cref="Unavailable"/> says why, once, for the start log.
/// </summary>
internal static partial class IdleTlsBuffers
{
    private const int SslCtrlMode = 33;            // SSL_CTRL_MODE
    private const long SslModeReleaseBuffers = 0x10; // SSL_MODE_RELEASE_BUFFERS

    private static readonly FieldInfo? SecurityContext =
        typeof(SslStream).GetField("_securityContext", BindingFlags.NonPublic | BindingFlags.Instance);

    private static volatile string? _unavailable = OperatingSystem.IsLinux() ? null : "not Linux (OpenSSL)";

    /// <summary>Why the buffers cannot be released (null while they can).</summary>
    public static string? Unavailable => _unavailable;

    /// <summary>After the handshake: sets the mode on <paramref name="stream"/>'s SSL object; false when it cannot.</summary>
    public static bool TryRelease(SslStream stream)
    {
        if (_unavailable is not null) return false;
        if (SecurityContext?.GetValue(stream) is not SafeHandle handle || handle.GetType().FullName != "Microsoft.Win32.SafeHandles.SafeSslHandle")
        {
            _unavailable = "SslStream's TLS handle is not the OpenSSL one this .NET version was expected to have";
            return false;
        }
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            long mode = SslCtrl(handle.DangerousGetHandle(), SslCtrlMode, SslModeReleaseBuffers, 0);
            return (mode & SslModeReleaseBuffers) != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or ObjectDisposedException)
        {
            if (e is not ObjectDisposedException) _unavailable = "libssl.so.3: " + e.Message;
            return false;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    [LibraryImport("libssl.so.3", EntryPoint = "SSL_ctrl")]
    private static partial long SslCtrl(nint ssl, int cmd, long larg, nint parg);
}
