using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PresenceD.Tests.Shared;

/// <summary>
/// A throwaway PKI written as PEM files into a temporary directory: a test CA, a server certificate it signed for
/// localhost and 127.0.0.1 (chain file: server, then CA), a second one to rotate to, an expired one, one for another
/// host name, and a self-signed one no client trusts. Deleted on dispose.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>The CA to trust (the client's --ca-file).</summary>
    public string CaFile => Path.Combine(Directory, "ca.pem");

    public string ServerCertFile => Path.Combine(Directory, "server.pem");

    public string ServerKeyFile => Path.Combine(Directory, "server.key");

    /// <summary>Another valid certificate for the same names, by the same CA (certificate rotation).</summary>
    public string RotatedCertFile => Path.Combine(Directory, "rotated.pem");

    public string RotatedKeyFile => Path.Combine(Directory, "rotated.key");

    /// <summary>Signed by the CA for localhost, but expired yesterday.</summary>
    public string ExpiredCertFile => Path.Combine(Directory, "expired.pem");

    public string ExpiredKeyFile => Path.Combine(Directory, "expired.key");

    /// <summary>Signed by the CA for wrong.example only (a name mismatch for localhost).</summary>
    public string WrongNameCertFile => Path.Combine(Directory, "wrongname.pem");

    public string WrongNameKeyFile => Path.Combine(Directory, "wrongname.key");

    /// <summary>Self-signed for localhost: no client that trusts only the CA accepts it.</summary>
    public string UntrustedCertFile => Path.Combine(Directory, "untrusted.pem");

    public string UntrustedKeyFile => Path.Combine(Directory, "untrusted.key");

    public static TestCertificates Create()
    {
        string directory = Path.Combine(Path.GetTempPath(), "pd-certs-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var certificates = new TestCertificates(directory);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=PresenceD Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddDays(-30), now.AddYears(5));
        File.WriteAllText(certificates.CaFile, ca.ExportCertificatePem());

        Issue(ca, "localhost", now.AddDays(-1), now.AddDays(30), certificates.ServerCertFile, certificates.ServerKeyFile);
        Issue(ca, "localhost", now.AddDays(-1), now.AddDays(60), certificates.RotatedCertFile, certificates.RotatedKeyFile);
        Issue(ca, "localhost", now.AddDays(-10), now.AddDays(-1), certificates.ExpiredCertFile, certificates.ExpiredKeyFile);
        Issue(ca, "wrong.example", now.AddDays(-1), now.AddDays(30), certificates.WrongNameCertFile, certificates.WrongNameKeyFile);
        Issue(null, "localhost", now.AddDays(-1), now.AddDays(30), certificates.UntrustedCertFile, certificates.UntrustedKeyFile);
        return certificates;
    }

    // A leaf for dnsName (and 127.0.0.1 when it is localhost), signed by issuer or self-signed; the chain file holds the leaf, then the issuer.
    private static void Issue(X509Certificate2? issuer, string dnsName, DateTimeOffset notBefore, DateTimeOffset notAfter, string certFile, string keyFile)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + dnsName, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        if (dnsName == "localhost") names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        using X509Certificate2 leaf = issuer is null
            ? request.CreateSelfSigned(notBefore, notAfter)
            : request.Create(issuer, notBefore, notAfter, serial);
        string chain = leaf.ExportCertificatePem() + "\n" + (issuer is null ? "" : issuer.ExportCertificatePem() + "\n");
        File.WriteAllText(certFile, chain);
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
