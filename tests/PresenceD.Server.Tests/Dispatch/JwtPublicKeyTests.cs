using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Configuration;
using PresenceD.Server.Dispatch.Auth;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Dispatch;

/// <summary>
/// RS256 and ES256 tokens checked against public keys (jwt_public_key_file: PEM or JWKS), over real sockets; and
/// the algorithm rules a security reviewer checks first: "none" and HS/RS confusion are refused, a key serves only
/// the algorithm of its own type, a kid picks its key.
/// </summary>
public sealed class JwtPublicKeyTests : IDisposable
{
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly List<string> _files = [];

    public void Dispose()
    {
        _rsa.Dispose();
        _ec.Dispose();
        foreach (string file in _files) System.IO.File.Delete(file);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static long In(int seconds) => DateTimeOffset.UtcNow.ToUnixTimeSeconds() + seconds;

    private static string Signed(object header, object claims, Func<byte[], byte[]> sign)
    {
        string signed = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        return signed + "." + Base64Url(sign(Encoding.ASCII.GetBytes(signed)));
    }

    private string Rs256(object claims, string? kid = null, RSA? key = null) => Signed(
        kid is null ? new { alg = "RS256", typ = "JWT" } : new { alg = "RS256", typ = "JWT", kid },
        claims, data => (key ?? _rsa).SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

    private string Es256(object claims) => Signed(new { alg = "ES256", typ = "JWT" }, claims,
        data => _ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

    private string KeyFile(string text)
    {
        string path = Path.GetTempFileName();
        System.IO.File.WriteAllText(path, text);
        _files.Add(path);
        return path;
    }

    private string PublicPem() => _rsa.ExportSubjectPublicKeyInfoPem() + "\n" + _ec.ExportSubjectPublicKeyInfoPem();

    private static JwtClaims? Check(JwtVerifier verifier, string token, out string error) =>
        verifier.Verify(token, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 0, out error);

    [Fact]
    public async Task A_daemon_with_pem_public_keys_accepts_RS256_and_ES256_tokens_over_the_wire()
    {
        string keys = KeyFile(PublicPem());
        await using TestServer server = TestServer.Start(o =>
        {
            o.Auth = AuthMode.Jwt;
            o.JwtPublicKeyFile = keys;
        });
        foreach ((string user, string token) in new[] { ("rsa-user", Rs256(new { sub = "rsa-user", exp = In(60) })), ("ec-user", Es256(new { sub = "ec-user", exp = In(60) })) })
        {
            await using TestClient client = await server.ConnectAsync();
            await client.SendAsync(f => ClientFrames.Hello(f, 1, token, "tests"));
            Assert.Equal(user, (await client.ExpectAsync<WelcomeMessage>()).User);
        }

        // A token signed by another RSA key is refused with AUTH and the connection closed.
        using RSA stranger = RSA.Create(2048);
        await using TestClient refused = await server.ConnectAsync();
        await refused.SendAsync(f => ClientFrames.Hello(f, 1, Rs256(new { sub = "mallory", exp = In(60) }, key: stranger), "tests"));
        List<ServerMessage> frames = await refused.ReadUntilClosedAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(frames, f => f is ErrorMessage { Code: ErrorCode.Auth, Text: "bad signature" });
    }

    [Fact]
    public void A_jwks_kid_selects_its_key()
    {
        RSAParameters p = _rsa.ExportParameters(false);
        using RSA other = RSA.Create(2048);
        RSAParameters q = other.ExportParameters(false);
        string jwks = JsonSerializer.Serialize(new
        {
            keys = new object[]
            {
                new { kty = "RSA", kid = "old", use = "sig", alg = "RS256", n = Base64Url(q.Modulus!), e = Base64Url(q.Exponent!) },
                new { kty = "RSA", kid = "new", use = "sig", alg = "RS256", n = Base64Url(p.Modulus!), e = Base64Url(p.Exponent!) },
            },
        });
        var verifier = JwtVerifier.Load("", KeyFile(jwks));
        Assert.Equal("2 RS256 keys", verifier.Description);
        Assert.NotNull(Check(verifier, Rs256(new { sub = "a", exp = In(60) }, kid: "new"), out _));
        Assert.Null(Check(verifier, Rs256(new { sub = "a", exp = In(60) }, kid: "old"), out string wrongKid));
        Assert.Equal("bad signature", wrongKid);
        Assert.Null(Check(verifier, Rs256(new { sub = "a", exp = In(60) }, kid: "gone"), out string unknownKid));
        Assert.Contains("kid 'gone'", unknownKid);
        Assert.NotNull(Check(verifier, Rs256(new { sub = "a", exp = In(60) }), out _)); // no kid: any RS256 key
    }

    [Fact]
    public void Alg_none_is_refused()
    {
        var verifier = JwtVerifier.Load("", KeyFile(PublicPem()));
        string unsigned = Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}"u8.ToArray()) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { sub = "root", exp = In(60) })) + ".";
        Assert.Null(Check(verifier, unsigned, out _));
        Assert.Null(Check(verifier, unsigned + "AAAA", out string error));
        Assert.Equal("alg none is not accepted (HS256, RS256 or ES256)", error);
    }

    [Fact]
    public void An_HS256_token_keyed_with_the_public_key_is_refused()
    {
        // The classic confusion: the attacker knows the public key and HMACs with its bytes as the secret.
        string pem = _rsa.ExportSubjectPublicKeyInfoPem();
        var verifier = JwtVerifier.Load("", KeyFile(pem));
        foreach (string secret in new[] { pem, pem.Trim() })
        {
            string forged = Signed(new { alg = "HS256", typ = "JWT" }, new { sub = "root", exp = In(60) }, data => HMACSHA256.HashData(Encoding.ASCII.GetBytes(secret), data));
            Assert.Null(Check(verifier, forged, out string error));
            Assert.Equal("alg HS256 is not accepted here (no jwt_secret_file)", error);
        }
    }

    [Fact]
    public void A_key_serves_only_its_own_algorithm()
    {
        var rsaOnly = JwtVerifier.Load("", KeyFile(_rsa.ExportSubjectPublicKeyInfoPem()));
        Assert.Null(Check(rsaOnly, Es256(new { sub = "a", exp = In(60) }), out string error));
        Assert.StartsWith("alg ES256 is not accepted here", error);

        // An RS256 signature relabelled ES256 (or the reverse) finds no key of that type to pass.
        var both = JwtVerifier.Load("", KeyFile(PublicPem()));
        string rs = Rs256(new { sub = "a", exp = In(60) });
        string relabelled = Base64Url("{\"alg\":\"ES256\"}"u8.ToArray()) + rs[rs.IndexOf('.')..];
        Assert.Null(Check(both, relabelled, out _));
    }

    [Fact]
    public void A_private_key_or_an_unusable_file_is_a_clear_error_naming_the_file()
    {
        string privatePem = KeyFile(_rsa.ExportPkcs8PrivateKeyPem());
        JwtKeyException e = Assert.Throws<JwtKeyException>(() => JwtKeys.Load("", privatePem));
        Assert.Contains(privatePem, e.Message);
        Assert.Contains("'PRIVATE KEY' block is not a public key", e.Message);

        using ECDsa p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.Contains("ES256 needs P-256", Assert.Throws<JwtKeyException>(() => JwtKeys.Load("", KeyFile(p384.ExportSubjectPublicKeyInfoPem()))).Message);
        Assert.Contains("holds no public key", Assert.Throws<JwtKeyException>(() => JwtKeys.Load("", KeyFile("just text"))).Message);
        Assert.Contains("\"keys\" array", Assert.Throws<JwtKeyException>(() => JwtKeys.Load("", KeyFile("{\"kty\":\"RSA\"}"))).Message);
    }

    [Fact]
    public void Replace_rotates_the_keys_for_the_next_check()
    {
        var verifier = JwtVerifier.Load("", KeyFile(_rsa.ExportSubjectPublicKeyInfoPem()));
        string token = Rs256(new { sub = "a", exp = In(60) });
        Assert.NotNull(Check(verifier, token, out _));
        using RSA next = RSA.Create(2048);
        verifier.Replace(JwtKeys.Load("", KeyFile(next.ExportSubjectPublicKeyInfoPem())));
        Assert.Null(Check(verifier, token, out _));
        Assert.NotNull(Check(verifier, Rs256(new { sub = "a", exp = In(60) }, key: next), out _));
    }

    [Fact]
    public void The_warmup_grant_signs_only_for_its_user_and_only_while_held()
    {
        var verifier = JwtVerifier.Load("", KeyFile(PublicPem()));
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string token;
        using (JwtVerifier.WarmupGrant grant = verifier.AllowWarmup("presenced-warmup"))
        {
            token = grant.Token(now, 60, "presenced-warmup");
            Assert.Equal("presenced-warmup", Check(verifier, token, out _)?.Subject);
            string other = Signed(new { alg = "HS256", kid = grant.Kid }, new { sub = "root", exp = In(60) }, data => HMACSHA256.HashData(grant.Secret, data));
            Assert.Null(Check(verifier, other, out _));
        }
        Assert.Null(Check(verifier, token, out string error));
        Assert.Equal("alg HS256 is not accepted here (no jwt_secret_file)", error);
    }
}
