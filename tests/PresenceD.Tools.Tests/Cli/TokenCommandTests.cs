using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PresenceD.Cli;
using PresenceD.Tests.Shared;

namespace PresenceD.Tools.Tests.Cli;

/// <summary>`presence-cli token` mints tokens a real daemon with auth jwt accepts: HS256 from the secret file,
/// ES256 and RS256 from a private key whose public key the daemon holds; bad arguments exit 1 with a message.</summary>
public sealed class TokenCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pd-token-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString().Trim(), error.ToString());
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task An_HS256_token_from_the_secret_file_lets_the_user_join_its_rooms_only()
    {
        string secret = Write("secret", "dev-secret-dev-secret\n");
        var (code, token, _) = await RunAsync("token", "--sub", "alice", "--rooms", "game:*", "lobby", "--ttl", "10m", "--secret-file", secret);
        Assert.Equal(0, code);
        using JsonDocument claims = JsonDocument.Parse(Convert.FromBase64String(Pad(token.Split('.')[1])));
        Assert.Equal("alice", claims.RootElement.GetProperty("sub").GetString());
        Assert.Equal(["game:*", "lobby"], claims.RootElement.GetProperty("rooms").EnumerateArray().Select(r => r.GetString()));
        long lifetime = claims.RootElement.GetProperty("exp").GetInt64() - claims.RootElement.GetProperty("iat").GetInt64();
        Assert.Equal(600, lifetime);

        await using DaemonProcess daemon = await DaemonProcess.StartAsync(DaemonSetup.WithConfig(Ports.Free(), "auth jwt", $"jwt_secret_file {secret}"));
        var (joined, _, _) = await RunAsync("join", "game:7", "--token", token, "--server", daemon.Address);
        var (forbidden, _, _) = await RunAsync("join", "other", "--token", token, "--server", daemon.Address);
        Assert.Equal(ExitCodes.Ok, joined);
        Assert.Equal(ExitCodes.Refused, forbidden);
    }

    [Fact]
    public async Task ES256_and_RS256_tokens_from_private_keys_are_accepted_by_a_daemon_holding_the_public_keys()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);
        string ecKey = Write("ec.pem", ec.ExportPkcs8PrivateKeyPem());
        string rsaKey = Write("rsa.pem", rsa.ExportRSAPrivateKeyPem());
        string publicKeys = Write("public.pem", ec.ExportSubjectPublicKeyInfoPem() + "\n" + rsa.ExportSubjectPublicKeyInfoPem());
        await using DaemonProcess daemon = await DaemonProcess.StartAsync(DaemonSetup.WithConfig(Ports.Free(), "auth jwt", $"jwt_public_key_file {publicKeys}"));

        foreach ((string key, string alg) in new[] { (ecKey, "ES256"), (rsaKey, "RS256") })
        {
            var (code, token, _) = await RunAsync("token", "--sub", "bob", "--key-file", key);
            Assert.Equal(0, code);
            Assert.Contains($"\"alg\":\"{alg}\"", Encoding.UTF8.GetString(Convert.FromBase64String(Pad(token.Split('.')[0]))));
            var (hello, welcome, _) = await RunAsync("hello", "--token", token, "--server", daemon.Address);
            Assert.Equal(ExitCodes.Ok, hello);
            Assert.Contains("bob", welcome);
        }
    }

    [Theory]
    [InlineData("--ttl", "soon", "--ttl 'soon' is not a duration")]
    [InlineData("--ttl", "-5m", "--ttl '-5m' is not a duration")]
    [InlineData("--ttl", "5w", "the unit must be s, m, h or d")]
    public async Task A_bad_ttl_exits_1_with_a_message(string flag, string value, string message)
    {
        string secret = Write("s", "x");
        var (code, output, error) = await RunAsync("token", "--sub", "a", "--secret-file", secret, flag, value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task Exactly_one_key_source_is_required_and_a_public_key_is_no_signing_key()
    {
        var (neither, _, neitherError) = await RunAsync("token", "--sub", "a");
        Assert.Equal(ExitCodes.Usage, neither);
        Assert.Contains("exactly one of --secret-file (HS256) and --key-file", neitherError);

        using var rsa = RSA.Create(2048);
        var (publicOnly, _, publicError) = await RunAsync("token", "--sub", "a", "--key-file", Write("pub.pem", rsa.ExportSubjectPublicKeyInfoPem()));
        Assert.Equal(ExitCodes.Usage, publicOnly);
        Assert.Contains("no RSA or EC P-256 private key", publicError);
    }

    private static string Pad(string base64Url)
    {
        string s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }
}
