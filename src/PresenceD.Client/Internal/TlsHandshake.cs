using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace PresenceD.Client.Internal;

/// <summary>
/// The client side of TLS (<see cref="PresenceClientOptions.Tls"/>): SNI and the name checked are
/// <see cref="PresenceClientOptions.TlsTargetHost"/> (default: the host connected to); the server's chain is checked
/// against the system's trusted roots, or only against the CAs of <see cref="PresenceClientOptions.TlsCaFile"/> when one
/// is given. A certificate that fails the check ends the attempt with <see cref="PresenceTlsException"/>, which is not
/// retried: a reconnect would meet the same certificate.
/// </summary>
internal sealed class TlsHandshake
{
    private readonly string _targetHost;
    private readonly bool _skipVerify;
    private readonly X509Certificate2[]? _authorities;

    private TlsHandshake(string targetHost, bool skipVerify, X509Certificate2[]? authorities)
    {
        _targetHost = targetHost;
        _skipVerify = skipVerify;
        _authorities = authorities;
    }

    /// <summary>The handshake settings for one connect; null when TLS is off. Reads the CA file each time, so a replaced file is used by the next connect.</summary>
    public static TlsHandshake? For(PresenceClientOptions options) => options.Tls
        ? Create(string.IsNullOrEmpty(options.TlsTargetHost) ? options.Host : options.TlsTargetHost!, options.TlsCaFile, options.TlsInsecureSkipVerify)
        : null;

    /// <summary>Settings shared by many connections (presence-load); safe to use for concurrent handshakes.</summary>
    public static TlsHandshake Create(string targetHost, string? caFile, bool skipVerify) =>
        new TlsHandshake(targetHost, skipVerify, caFile is { Length: > 0 } file ? ReadAuthorities(file) : null);

    /// <summary>Runs the handshake over <paramref name="socket"/> within <paramref name="timeout"/>; the stream then carries the session.</summary>
    public async Task<SslStream> AuthenticateAsync(Socket socket, string endpoint, TimeSpan timeout, CancellationToken cancellation)
    {
        string refusal = ""; // why Validate refused the certificate, for the exception
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false,
            (_, certificate, chain, errors) => Validate(certificate, chain, errors, out refusal));
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timer.CancelAfter(timeout);
        try
        {
            var settings = new SslClientAuthenticationOptions
            {
                TargetHost = _targetHost,
                EnabledSslProtocols = SslProtocols.None, // the system's choice: TLS 1.2 and 1.3
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            };
            await stream.AuthenticateAsClientAsync(settings, timer.Token).ConfigureAwait(false);
            return stream;
        }
        catch (Exception e)
        {
            stream.Dispose();
            if (e is OperationCanceledException && !cancellation.IsCancellationRequested)
                throw new TimeoutException($"the TLS handshake with {endpoint} took longer than {timeout.TotalSeconds:0.#} s");
            if (refusal.Length > 0) throw new PresenceTlsException($"TLS handshake with {endpoint} failed: {refusal}", e);
            if (e is AuthenticationException)
                throw new PresenceTlsException($"TLS handshake with {endpoint} failed: {e.Message} (does the server have tls on for this port?)", e);
            throw;
        }
    }

    private bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, out string refusal)
    {
        refusal = "";
        if (_skipVerify) return true;
        if (certificate is null)
        {
            refusal = "the server sent no certificate";
            return false;
        }
        string subject = certificate.Subject;
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            refusal = $"the server's certificate ({subject}) is not for {_targetHost}";
            return false;
        }
        if (_authorities is null)
        {
            if (errors == SslPolicyErrors.None) return true;
            refusal = $"the server's certificate ({subject}) is not trusted: {Describe(chain)}";
            return false;
        }
        using var own = new X509Chain();
        own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (X509ChainElement element in chain.ChainElements) own.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        using var leaf = new X509Certificate2(certificate);
#if NET
        own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        own.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        if (own.Build(leaf)) return true;
#else
        own.ChainPolicy.ExtraStore.AddRange(_authorities);
        own.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
        if (own.Build(leaf) && IsOneOf(own.ChainElements[own.ChainElements.Count - 1].Certificate, _authorities)) return true;
#endif
        refusal = $"the server's certificate ({subject}) is not trusted by the CA file: {Describe(own)}";
        return false;
    }

#if !NET
    private static bool IsOneOf(X509Certificate2 root, X509Certificate2[] authorities)
    {
        foreach (X509Certificate2 authority in authorities)
        {
            if (authority.Thumbprint == root.Thumbprint) return true;
        }
        return false;
    }
#endif

    private static string Describe(X509Chain? chain)
    {
        if (chain is null || chain.ChainStatus.Length == 0) return "no chain to a trusted root";
        var reasons = new List<string>();
        foreach (X509ChainStatus status in chain.ChainStatus) reasons.Add(status.StatusInformation.Trim().TrimEnd('.'));
        return string.Join("; ", reasons);
    }

    /// <summary>Every certificate of a PEM file (a CA bundle); a file without one is an error naming the file.</summary>
    private static X509Certificate2[] ReadAuthorities(string file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            throw new PresenceTlsException($"cannot read the TLS CA file {file}: {e.Message}", e);
        }
        const string Begin = "-----BEGIN CERTIFICATE-----", End = "-----END CERTIFICATE-----";
        var found = new List<X509Certificate2>();
        for (int at = text.IndexOf(Begin, StringComparison.Ordinal); at >= 0; at = text.IndexOf(Begin, at, StringComparison.Ordinal))
        {
            int end = text.IndexOf(End, at, StringComparison.Ordinal);
            if (end < 0) break;
            string body = text.Substring(at + Begin.Length, end - at - Begin.Length);
            try
            {
                byte[] der = Convert.FromBase64String(body);
#if NET
                found.Add(X509CertificateLoader.LoadCertificate(der));
#else
                found.Add(new X509Certificate2(der));
#endif
            }
            catch (Exception e) when (e is FormatException || e is System.Security.Cryptography.CryptographicException)
            {
                throw new PresenceTlsException($"the TLS CA file {file} holds a certificate that cannot be read: {e.Message}", e);
            }
            at = end + End.Length;
        }
        if (found.Count == 0) throw new PresenceTlsException($"the TLS CA file {file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return found.ToArray();
    }
}
