using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PresenceD.Server.Tls;

/// <summary>
/// The server's certificate chain and private key, read from tls_cert_file and tls_key_file (PEM). The first
/// certificate of the file is the server's, the others its intermediates, sent with it in every handshake. Built
/// once per load into an <see cref="SslStreamCertificateContext"/>, so no handshake rebuilds the chain.
/// </summary>
internal sealed class TlsCredentials
{
    private TlsCredentials(SslStreamCertificateContext context, X509Certificate2 leaf)
    {
        Context = context;
        Certificate = leaf;
    }

    public SslStreamCertificateContext Context { get; }

    public X509Certificate2 Certificate { get; }

    /// <summary>For the logs: subject, expiry and fingerprint, never the key.</summary>
    public string Description =>
        $"{Certificate.Subject}, valid until {Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm}Z, sha256 {Certificate.GetCertHashString(HashAlgorithmName.SHA256)[..16]}…";

    /// <summary>Reads both files; throws <see cref="TlsCertificateException"/> naming the file and what is wrong with it.</summary>
    public static TlsCredentials Load(string certFile, string keyFile, DateTime nowUtc)
    {
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPemFile(certFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new TlsCertificateException($"tls_cert_file '{certFile}': {e.Message}", e);
        }
        if (chain.Count == 0) throw new TlsCertificateException($"tls_cert_file '{certFile}' holds no PEM CERTIFICATE block");
        X509Certificate2 leaf;
        try
        {
            leaf = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new TlsCertificateException($"tls_key_file '{keyFile}' with tls_cert_file '{certFile}': {e.Message} (the key must be an unencrypted PEM private key of the file's first certificate)", e);
        }
        if (nowUtc > leaf.NotAfter.ToUniversalTime())
        {
            throw new TlsCertificateException($"tls_cert_file '{certFile}': the certificate ({leaf.Subject}) expired on {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm}Z");
        }
        if (nowUtc < leaf.NotBefore.ToUniversalTime())
        {
            throw new TlsCertificateException($"tls_cert_file '{certFile}': the certificate ({leaf.Subject}) is not valid before {leaf.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm}Z");
        }
        var intermediates = new X509Certificate2Collection();
        for (int i = 1; i < chain.Count; i++) intermediates.Add(chain[i]);
        // offline: the chain is what the file holds; no handshake waits on fetching a missing intermediate.
        SslStreamCertificateContext context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        return new TlsCredentials(context, leaf);
    }
}
