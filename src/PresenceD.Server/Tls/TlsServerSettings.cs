using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace PresenceD.Server.Tls;

/// <summary>
/// What every server handshake uses (certificate, versions), shared by the client and admin ports and replaced as a
/// whole on SIGHUP: a handshake reads <see cref="Options"/> once, so rotation never drops or changes an open connection.
/// </summary>
internal sealed class TlsServerSettings
{
    private readonly SslProtocols _protocols;
    private volatile SslServerAuthenticationOptions _options;
    private volatile TlsCredentials _credentials;

    public TlsServerSettings(TlsCredentials credentials, SslProtocols protocols)
    {
        _protocols = protocols;
        _credentials = credentials;
        _options = Build(credentials, protocols);
    }

    public SslServerAuthenticationOptions Options => _options;

    public TlsCredentials Credentials => _credentials;

    /// <summary>Certificate rotation: the next handshakes present <paramref name="credentials"/>.</summary>
    public void Replace(TlsCredentials credentials)
    {
        _credentials = credentials;
        _options = Build(credentials, _protocols);
    }

    private static SslServerAuthenticationOptions Build(TlsCredentials credentials, SslProtocols protocols) => new()
    {
        ServerCertificateContext = credentials.Context,
        EnabledSslProtocols = protocols,
        ClientCertificateRequired = false,
        // Renegotiation is a TLS 1.2 attack surface (client-initiated renegotiation DoS) and nothing here needs it.
        AllowRenegotiation = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };
}
