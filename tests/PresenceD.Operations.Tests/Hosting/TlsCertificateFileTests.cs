using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Hosting;

/// <summary>
/// The real binary with TLS: SIGHUP rotates the certificate while connected clients stay (new handshakes get the new
/// one, a broken file keeps the running one); admin_tls serves the admin port over HTTPS; a certificate that cannot be
/// served stops start and --check-config with exit 1 naming the file.
/// </summary>
public sealed class TlsCertificateFileTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TestCertificates _certificates = TestCertificates.Create();

    public void Dispose() => _certificates.Dispose();

    private static string Thumbprint(string certFile)
    {
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(certFile);
        return chain[0].Thumbprint;
    }

    [Fact]
    public async Task SIGHUP_rotates_the_certificate_and_keeps_connected_clients()
    {
        string cert = Path.Combine(_certificates.Directory, "live.pem");
        string key = Path.Combine(_certificates.Directory, "live.key");
        File.Copy(_certificates.ServerCertFile, cert);
        File.Copy(_certificates.ServerKeyFile, key);
        int port = Ports.Free();
        await using DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(port, "tls on", $"tls_cert_file {cert}", $"tls_key_file {key}"));
        await daemon.WaitUntilListeningAsync();
        Assert.Contains("tls on on the client port", await daemon.WaitForLineAsync(Wait, "tls on on the client port"));
        string? presented = null;
        var tls = new TestTls(_certificates.CaFile) { Presented = t => presented = t };
        await using TestClient stays = await TestClient.HelloAsync(daemon.EndPoint, "stays", tls: tls);
        Assert.Equal(Thumbprint(_certificates.ServerCertFile), presented);

        File.Copy(_certificates.RotatedCertFile, cert, overwrite: true);
        File.Copy(_certificates.RotatedKeyFile, key, overwrite: true);
        daemon.Signal("HUP");
        await daemon.WaitForLineAsync(Wait, "tls certificate reloaded");

        await stays.SendAsync(b => ClientFrames.Ping(b, 7));
        Assert.Equal(7u, (await stays.ExpectAsync<PongMessage>()).Rid);
        await using (TestClient fresh = await TestClient.HelloAsync(daemon.EndPoint, "fresh", tls: tls))
        {
            Assert.Equal(Thumbprint(_certificates.RotatedCertFile), presented);
        }

        // A key that does not match the certificate on the next reload: the running certificate stays.
        File.Copy(_certificates.ServerKeyFile, key, overwrite: true);
        daemon.Signal("HUP");
        Assert.Contains("tls certificate not reloaded, the running one stays", await daemon.WaitForLineAsync(Wait, "tls certificate not reloaded"));
        await using TestClient still = await TestClient.HelloAsync(daemon.EndPoint, "still", tls: tls);
        Assert.Equal(Thumbprint(_certificates.RotatedCertFile), presented);
    }

    // A daemon with a plain client port and admin_tls <mode> on adminPort, once its admin line (naming the scheme) is out.
    private async Task<DaemonProcess> StartWithAdminTlsAsync(int adminPort, string mode, string adminLine)
    {
        DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(Ports.Free(), $"admin_port {adminPort}", $"admin_tls {mode}",
            $"tls_cert_file {_certificates.ServerCertFile}", $"tls_key_file {_certificates.ServerKeyFile}"));
        await daemon.WaitUntilListeningAsync();
        await daemon.WaitForLineAsync(Wait, adminLine);
        return daemon;
    }

    // An HTTPS client that trusts only the CA in caFile.
    private HttpClient Trusting(string caFile) => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) => new TestTls(caFile).Validate(this, certificate, chain, errors),
    }, disposeHandler: true) { Timeout = Wait };

    [Fact]
    public async Task Admin_tls_serves_the_admin_port_over_https_only()
    {
        int adminPort = Ports.Free();
        await using DaemonProcess daemon = await StartWithAdminTlsAsync(adminPort, "on", "admin https on");
        using HttpClient https = Trusting(_certificates.CaFile);
        Assert.Equal("ok\n", await https.GetStringAsync($"https://localhost:{adminPort}/healthz"));
        using var plain = new HttpClient { Timeout = Wait };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetStringAsync($"http://127.0.0.1:{adminPort}/healthz"));
        // The client port stays plain: tls is off.
        await using TestClient client = await TestClient.HelloAsync(daemon.EndPoint, "alice");
    }

    [Fact]
    public async Task Admin_tls_optional_serves_https_and_http_on_one_port_and_counts_a_refused_handshake()
    {
        int adminPort = Ports.Free();
        await using DaemonProcess daemon = await StartWithAdminTlsAsync(adminPort, "optional", "admin https or http on");
        using HttpClient https = Trusting(_certificates.CaFile);
        Assert.Equal("ok\n", await https.GetStringAsync($"https://localhost:{adminPort}/healthz"));
        using var plain = new HttpClient { Timeout = Wait };
        Assert.Equal("ok\n", await plain.GetStringAsync($"http://127.0.0.1:{adminPort}/healthz"));

        // A client that trusts another CA ends the handshake: logged and counted, and the port goes on serving.
        using var other = TestCertificates.Create();
        using HttpClient untrusting = Trusting(other.CaFile);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => untrusting.GetStringAsync($"https://localhost:{adminPort}/healthz"));
        await daemon.WaitForLineAsync(Wait, "admin tls handshake from");
        string metrics = await plain.GetStringAsync($"http://127.0.0.1:{adminPort}/metrics");
        Assert.Contains("presenced_admin_tls_handshakes_failed_total 1", metrics);
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("mismatched key")]
    [InlineData("missing key")]
    public async Task A_certificate_that_cannot_be_served_fails_check_config_and_start_with_exit_1(string problem)
    {
        (string cert, string key, string expected) = problem switch
        {
            "expired" => (_certificates.ExpiredCertFile, _certificates.ExpiredKeyFile, $"presenced: tls_cert_file '{_certificates.ExpiredCertFile}': the certificate (CN=localhost) expired on "),
            "mismatched key" => (_certificates.ServerCertFile, _certificates.RotatedKeyFile, $"presenced: tls_key_file '{_certificates.RotatedKeyFile}' with tls_cert_file '{_certificates.ServerCertFile}': "),
            _ => (_certificates.ServerCertFile, "", "presenced: command line --tls: tls on needs tls_cert_file and tls_key_file"),
        };
        string[] settings = ["--tls", "on", "--tls_cert_file", cert, "--tls_key_file", key];
        await using DaemonProcess check = DaemonProcess.Start(new DaemonSetup { Arguments = [.. settings, "--check-config"] });
        Assert.Equal(1, await check.WaitForExitAsync(Wait));
        Assert.Contains(check.Lines, l => l.StartsWith(expected, StringComparison.Ordinal));
        await using DaemonProcess start = DaemonProcess.Start(new DaemonSetup { Arguments = settings }); // DaemonProcess adds a free --port
        Assert.Equal(1, await start.WaitForExitAsync(Wait));
        Assert.Contains(start.Lines, l => l.StartsWith(expected, StringComparison.Ordinal));
    }
}
