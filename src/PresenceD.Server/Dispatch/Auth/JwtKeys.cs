using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace PresenceD.Server.Dispatch.Auth;

/// <summary>
/// The keys tokens are checked with, loaded together and swapped as a whole on SIGHUP: the HS256 secret
/// (<c>jwt_secret_file</c>) and the public keys (<c>jwt_public_key_file</c>: PEM public keys or certificates, or a
/// JWKS document) for RS256 (RSA) and ES256 (EC P-256). Each key serves exactly one algorithm, fixed by its own type,
/// never by the token: a public key is never an HMAC secret, which is what rules out HS/RS confusion.
/// </summary>
internal sealed class JwtKeys
{
    private JwtKeys(byte[]? secret, IReadOnlyList<JwtPublicKey> publicKeys)
    {
        Secret = secret;
        PublicKeys = publicKeys;
    }

    /// <summary>The HS256 secret, or null when none is configured.</summary>
    public byte[]? Secret { get; }

    public IReadOnlyList<JwtPublicKey> PublicKeys { get; }

    /// <summary>What is loaded, for the start line and the reload log: e.g. "HS256 secret, 2 RS256 keys, 1 ES256 key".</summary>
    public string Description
    {
        get
        {
            var parts = new List<string>();
            if (Secret is not null) parts.Add("HS256 secret");
            int rsa = PublicKeys.Count(k => k.Algorithm == "RS256");
            int ec = PublicKeys.Count - rsa;
            if (rsa > 0) parts.Add(rsa == 1 ? "1 RS256 key" : $"{rsa} RS256 keys");
            if (ec > 0) parts.Add(ec == 1 ? "1 ES256 key" : $"{ec} ES256 keys");
            return string.Join(", ", parts);
        }
    }

    /// <summary>Loads the configured files; an empty path means that kind is not configured. Throws
    /// <see cref="JwtKeyException"/> naming the file and what is wrong with it.</summary>
    public static JwtKeys Load(string secretFile, string publicKeyFile)
    {
        byte[]? secret = secretFile.Length == 0 ? null : ReadSecret(secretFile);
        IReadOnlyList<JwtPublicKey> keys = publicKeyFile.Length == 0 ? [] : ReadPublicKeys(publicKeyFile);
        if (secret is null && keys.Count == 0)
        {
            throw new JwtKeyException("auth jwt needs jwt_secret_file or jwt_public_key_file");
        }
        return new JwtKeys(secret, keys);
    }

    public static JwtKeys FromSecret(byte[] secret) => new(secret, []);

    /// <summary>The file's bytes without trailing spaces, tabs, CR and LF.</summary>
    private static byte[] ReadSecret(string path)
    {
        byte[] bytes = ReadFile("jwt_secret_file", path);
        int length = bytes.Length;
        while (length > 0 && bytes[length - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') length--;
        if (length == 0) throw new JwtKeyException($"jwt_secret_file '{path}' is empty");
        return bytes.AsSpan(0, length).ToArray();
    }

    private static IReadOnlyList<JwtPublicKey> ReadPublicKeys(string path)
    {
        string text = Encoding.UTF8.GetString(ReadFile("jwt_public_key_file", path)).Trim();
        try
        {
            IReadOnlyList<JwtPublicKey> keys = text.StartsWith('{') ? ParseJwks(text) : ParsePem(text);
            if (keys.Count == 0) throw new JwtKeyException("it holds no public key (PEM PUBLIC KEY or CERTIFICATE blocks, or a JWKS)");
            return keys;
        }
        catch (JwtKeyException e)
        {
            throw new JwtKeyException($"jwt_public_key_file '{path}': {e.Message}");
        }
        catch (Exception e) when (e is CryptographicException or JsonException or FormatException)
        {
            throw new JwtKeyException($"jwt_public_key_file '{path}': {e.Message}");
        }
    }

    private static byte[] ReadFile(string key, string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new JwtKeyException($"{key} '{path}' cannot be read: {e.Message}");
        }
    }

    private static List<JwtPublicKey> ParsePem(string text)
    {
        var keys = new List<JwtPublicKey>();
        ReadOnlySpan<char> rest = text;
        while (PemEncoding.TryFind(rest, out PemFields fields))
        {
            string label = rest[fields.Label].ToString();
            byte[] der = Convert.FromBase64String(rest[fields.Base64Data].ToString());
            rest = rest[fields.Location.End.Value..];
            switch (label)
            {
                case "PUBLIC KEY":
                    keys.Add(FromPublicKey(PublicKey.CreateFromSubjectPublicKeyInfo(der, out _), kid: null));
                    break;
                case "RSA PUBLIC KEY":
                    var rsa = RSA.Create();
                    rsa.ImportRSAPublicKey(der, out _);
                    keys.Add(new JwtPublicKey("RS256", null, rsa, null));
                    break;
                case "CERTIFICATE":
                    using (var certificate = X509CertificateLoader.LoadCertificate(der))
                    {
                        keys.Add(FromPublicKey(certificate.PublicKey, kid: null));
                    }
                    break;
                default:
                    // A private key here would mean the signing key was copied to every node: refuse it loudly.
                    throw new JwtKeyException($"a '{label}' block is not a public key or certificate");
            }
        }
        return keys;
    }

    private static JwtPublicKey FromPublicKey(PublicKey key, string? kid)
    {
        if (key.GetRSAPublicKey() is { } rsa) return new JwtPublicKey("RS256", kid, rsa, null);
        if (key.GetECDsaPublicKey() is { } ec)
        {
            if (ec.KeySize != 256)
            {
                ec.Dispose();
                throw new JwtKeyException($"an EC key of {ec.KeySize} bits: ES256 needs P-256");
            }
            return new JwtPublicKey("ES256", kid, null, ec);
        }
        throw new JwtKeyException($"a {key.Oid.FriendlyName ?? key.Oid.Value} key is neither RSA nor EC P-256");
    }

    private static List<JwtPublicKey> ParseJwks(string text)
    {
        using JsonDocument document = JsonDocument.Parse(text);
        if (!document.RootElement.TryGetProperty("keys", out JsonElement array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new JwtKeyException("a JWKS needs a \"keys\" array");
        }
        var keys = new List<JwtPublicKey>();
        foreach (JsonElement jwk in array.EnumerateArray())
        {
            string kty = String(jwk, "kty") ?? throw new JwtKeyException("a JWK without kty");
            string? kid = String(jwk, "kid");
            string? use = String(jwk, "use");
            if (use is not null && use != "sig") continue; // encryption keys are not for tokens
            string? alg = String(jwk, "alg");
            switch (kty)
            {
                case "RSA":
                    if (alg is not null && alg != "RS256") continue; // a key published for another algorithm
                    var rsa = RSA.Create();
                    rsa.ImportParameters(new RSAParameters { Modulus = Bytes(jwk, "n"), Exponent = Bytes(jwk, "e") });
                    keys.Add(new JwtPublicKey("RS256", kid, rsa, null));
                    break;
                case "EC":
                    if (alg is not null && alg != "ES256") continue;
                    if (String(jwk, "crv") != "P-256") throw new JwtKeyException($"EC key '{kid}': ES256 needs crv P-256");
                    var ec = ECDsa.Create(new ECParameters
                    {
                        Curve = ECCurve.NamedCurves.nistP256,
                        Q = new ECPoint { X = Bytes(jwk, "x"), Y = Bytes(jwk, "y") },
                    });
                    keys.Add(new JwtPublicKey("ES256", kid, null, ec));
                    break;
                default:
                    continue; // "oct" and others: a JWKS of public keys may list kinds we do not use
            }
        }
        return keys;
    }

    private static string? String(JsonElement jwk, string name) =>
        jwk.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[] Bytes(JsonElement jwk, string name)
    {
        string value = String(jwk, name) ?? throw new JwtKeyException($"a JWK without \"{name}\"");
        byte[] bytes = new byte[Base64Url.GetMaxDecodedLength(value.Length)];
        if (!Base64Url.TryDecodeFromChars(value, bytes, out int written)) throw new JwtKeyException($"JWK \"{name}\" is not base64url");
        return bytes.AsSpan(0, written).ToArray();
    }
}

/// <summary>One public key and the one algorithm it verifies. Not disposed on reload: a HELLO on another thread
/// may still be verifying with the key set just replaced, so the old keys go with the garbage collector.</summary>
internal sealed class JwtPublicKey(string algorithm, string? kid, RSA? rsa, ECDsa? ec)
{
    public string Algorithm { get; } = algorithm;

    public string? Kid { get; } = kid;

    public bool Verifies(ReadOnlySpan<byte> signed, ReadOnlySpan<byte> signature) => Algorithm == "RS256"
        ? rsa!.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
        : ec!.VerifyData(signed, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
}

/// <summary>A key file that cannot be used; the message names the file and the problem.</summary>
internal sealed class JwtKeyException(string message) : Exception(message);
