using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Hosting;

/// <summary>The real binary with jwt_public_key_file: a bad key file stops start and --check-config with exit 1
/// naming the file, and SIGHUP rotates the keys while connected clients stay.</summary>
public sealed class JwtKeyFileTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly string _dir = Directory.CreateTempSubdirectory("pd-jwt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Rs256(RSA key, string sub)
    {
        string signed = Base64Url("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"u8.ToArray()) + "."
            + Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { sub, exp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 300 }));
        return signed + "." + Base64Url(key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public async Task A_private_key_as_jwt_public_key_file_fails_check_config_with_exit_1()
    {
        using RSA key = RSA.Create(2048);
        string file = Path.Combine(_dir, "signing.pem");
        await File.WriteAllTextAsync(file, key.ExportPkcs8PrivateKeyPem());
        await using DaemonProcess daemon = DaemonProcess.Start(
            DaemonSetup.WithConfig(Ports.Free(), "auth jwt", $"jwt_public_key_file {file}") with { Arguments = ["--check-config"] });

        Assert.Equal(1, await daemon.WaitForExitAsync(Wait));
        Assert.Contains(daemon.Lines, l => l == $"presenced: jwt_public_key_file '{file}': a 'PRIVATE KEY' block is not a public key or certificate");
    }

    [Fact]
    public async Task SIGHUP_rotates_the_public_keys_and_keeps_connected_clients()
    {
        using RSA oldKey = RSA.Create(2048);
        using RSA newKey = RSA.Create(2048);
        string file = Path.Combine(_dir, "keys.pem");
        await File.WriteAllTextAsync(file, oldKey.ExportSubjectPublicKeyInfoPem());
        int port = Ports.Free();
        await using DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(port, "auth jwt", $"jwt_public_key_file {file}"));
        await daemon.WaitUntilListeningAsync();
        await using TestClient stays = await TestClient.HelloAsync(Ports.Loopback(port), Rs256(oldKey, "stays"));

        await File.WriteAllTextAsync(file, newKey.ExportSubjectPublicKeyInfoPem());
        daemon.Signal("HUP");
        Assert.EndsWith("jwt keys reloaded: 1 RS256 key", await daemon.WaitForLineAsync(Wait, "jwt keys reloaded"));

        await stays.SendAsync(b => ClientFrames.Ping(b, 7));
        Assert.Equal(7u, (await stays.ExpectAsync<PongMessage>()).Rid);
        await using (TestClient rotatedOut = await TestClient.ConnectAsync(Ports.Loopback(port)))
        {
            await rotatedOut.SendAsync(b => ClientFrames.Hello(b, 1, Rs256(oldKey, "late"), "tests"));
            Assert.Contains(await rotatedOut.ReadUntilClosedAsync(Wait), f => f is ErrorMessage { Code: ErrorCode.Auth });
        }
        await using TestClient fresh = await TestClient.HelloAsync(Ports.Loopback(port), Rs256(newKey, "fresh"));

        // A broken file on the next reload keeps the running keys.
        await File.WriteAllTextAsync(file, "not a key");
        daemon.Signal("HUP");
        Assert.Contains("jwt keys not reloaded, the running keys stay", await daemon.WaitForLineAsync(Wait, "jwt keys not reloaded"));
        await using TestClient stillNew = await TestClient.HelloAsync(Ports.Loopback(port), Rs256(newKey, "still"));
    }
}
