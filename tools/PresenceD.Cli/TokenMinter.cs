using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PresenceD.Cli;

/// <summary>
/// `presence-cli token`: mints a JWT the daemon accepts, for development and tests. HS256 with the daemon's
/// jwt_secret_file (the same trailing-whitespace rule), or RS256 / ES256 with a PEM private key whose public half
/// is in the daemon's jwt_public_key_file (the algorithm follows the key type). A production backend mints its own.
/// </summary>
internal static class TokenMinter
{
    /// <summary>The token, or throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static string Mint(string subject, IReadOnlyList<string> rooms, TimeSpan ttl, string? secretFile, string? keyFile, string? kid, DateTimeOffset now)
    {
        if (subject.Length == 0) throw new ArgumentException("--sub must not be empty");
        if (ttl <= TimeSpan.Zero) throw new ArgumentException("--ttl must be positive");
        if ((secretFile is null) == (keyFile is null)) throw new ArgumentException("give exactly one of --secret-file (HS256) and --key-file (RS256 or ES256)");

        var claims = new Dictionary<string, object>
        {
            ["sub"] = subject,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.Add(ttl).ToUnixTimeSeconds(),
            ["rooms"] = rooms,
        };
        if (secretFile is not null)
        {
            byte[] secret = ReadSecret(secretFile);
            return Sign("HS256", kid, claims, data => HMACSHA256.HashData(secret, data));
        }

        string pem = Read(keyFile!);
        // ImportFromPem takes a public key too, and signing with it fails late and obscurely: look for a private one.
        if (!pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal) || pem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new ArgumentException($"--key-file {keyFile}: no RSA or EC P-256 private key in PEM form (unencrypted PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
        }
        using var rsa = RSA.Create();
        if (TryImport(() => rsa.ImportFromPem(pem)))
        {
            return Sign("RS256", kid, claims, data => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        }
        using var ec = ECDsa.Create();
        if (TryImport(() => ec.ImportFromPem(pem)))
        {
            if (ec.KeySize != 256) throw new ArgumentException($"--key-file {keyFile}: an EC key of {ec.KeySize} bits; ES256 needs P-256");
            return Sign("ES256", kid, claims, data => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        }
        throw new ArgumentException($"--key-file {keyFile}: no RSA or EC P-256 private key in PEM form");
    }

    /// <summary>`90s`, `30m`, `1h`, `7d`, or plain seconds.</summary>
    public static TimeSpan ParseTtl(string text)
    {
        text = text.Trim();
        if (text.Length == 0) throw new ArgumentException("--ttl is empty");
        char unit = text[^1];
        string number = char.IsDigit(unit) ? text : text[..^1];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value <= 0 || double.IsInfinity(value))
        {
            throw new ArgumentException($"--ttl '{text}' is not a duration (e.g. 90s, 30m, 1h, 7d)");
        }
        return unit switch
        {
            's' or >= '0' and <= '9' => TimeSpan.FromSeconds(value),
            'm' => TimeSpan.FromMinutes(value),
            'h' => TimeSpan.FromHours(value),
            'd' => TimeSpan.FromDays(value),
            _ => throw new ArgumentException($"--ttl '{text}': the unit must be s, m, h or d"),
        };
    }

    private static bool TryImport(Action import)
    {
        try
        {
            import();
            return true;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return false; // not this key type; the caller tries the next
        }
    }

    private static string Sign(string alg, string? kid, Dictionary<string, object> claims, Func<byte[], byte[]> sign)
    {
        var header = new Dictionary<string, string> { ["alg"] = alg, ["typ"] = "JWT" };
        if (kid is not null) header["kid"] = kid;
        string signed = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(claims));
        return signed + "." + Base64Url.EncodeToString(sign(Encoding.ASCII.GetBytes(signed)));
    }

    private static byte[] ReadSecret(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path); // bytes, not text: the daemon's secret is the file's bytes
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"cannot read {path}: {e.Message}");
        }
        int length = bytes.Length;
        while (length > 0 && bytes[length - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') length--;
        if (length == 0) throw new ArgumentException($"--secret-file {path} is empty");
        return bytes.AsSpan(0, length).ToArray();
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"cannot read {path}: {e.Message}");
        }
    }
}
