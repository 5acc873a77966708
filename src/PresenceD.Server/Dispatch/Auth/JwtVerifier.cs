using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PresenceD.Server.Dispatch.Auth;

/// <summary>
/// JWT verification with the BCL only: HS256 against the secret, RS256 and ES256 against the public keys
/// (<see cref="JwtKeys"/>). A token's <c>alg</c> only selects among keys made for that algorithm, so "none", an
/// unknown alg, or an HS256 token "signed" with a public key are refused; signatures are compared in constant
/// time; exp is required and checked with the leeway. The key set is swapped whole by <see cref="Replace"/>
/// (SIGHUP), so a check never sees half of a rotation.
/// </summary>
internal sealed class JwtVerifier(JwtKeys keys)
{
    private const string WarmupKidPrefix = "presenced-warmup-";

    private volatile JwtKeys _keys = keys;
    private volatile WarmupGrant? _warmup;

    public static JwtVerifier Load(string secretFile, string publicKeyFile) => new(JwtKeys.Load(secretFile, publicKeyFile));

    /// <summary>What the running key set holds, e.g. "HS256 secret, 1 RS256 key".</summary>
    public string Description => _keys.Description;

    /// <summary>Takes a freshly loaded key set; the next check uses it.</summary>
    public void Replace(JwtKeys keys) => _keys = keys;

    /// <summary>
    /// Lets the daemon's own warm-up session in while the returned grant is not disposed: an HS256 token with the
    /// grant's kid, signed with its secret (random, never written anywhere) and only for <paramref name="subject"/>.
    /// The warm-up then needs no signing key of the deployment, which with public keys the daemon does not have.
    /// </summary>
    public WarmupGrant AllowWarmup(string subject)
    {
        var grant = new WarmupGrant(this, subject, WarmupKidPrefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)), RandomNumberGenerator.GetBytes(32));
        _warmup = grant;
        return grant;
    }

    /// <summary>Verifies <paramref name="token"/>; on success returns the claims, else null and why.</summary>
    public JwtClaims? Verify(string token, long nowUnixSeconds, long leewaySeconds, out string error)
    {
        string[] parts = token.Split('.');
        if (parts.Length != 3)
        {
            error = "not a JWT";
            return null;
        }
        byte[]? header = DecodeSegment(parts[0]);
        byte[]? payload = DecodeSegment(parts[1]);
        byte[]? signature = DecodeSegment(parts[2]);
        if (header is null || payload is null || signature is null)
        {
            error = "bad base64url";
            return null;
        }
        try
        {
            string? alg, kid;
            using (JsonDocument h = JsonDocument.Parse(header))
            {
                if (h.RootElement.ValueKind != JsonValueKind.Object)
                {
                    error = "header is not an object";
                    return null;
                }
                alg = StringProperty(h.RootElement, "alg");
                kid = StringProperty(h.RootElement, "kid");
            }
            byte[] signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            WarmupGrant? warmup = kid is not null && kid.StartsWith(WarmupKidPrefix, StringComparison.Ordinal) ? _warmup : null;
            if (!SignatureHolds(alg, kid, warmup, signed, signature, out error))
            {
                return null;
            }
            return ReadClaims(payload, nowUnixSeconds, leewaySeconds, warmup, out error);
        }
        catch (JsonException)
        {
            error = "bad JSON";
            return null;
        }
    }

    private bool SignatureHolds(string? alg, string? kid, WarmupGrant? warmup, byte[] signed, byte[] signature, out string error)
    {
        JwtKeys keys = _keys;
        error = "bad signature";
        switch (alg)
        {
            case "HS256":
                byte[]? secret = warmup is not null && warmup.Kid == kid ? warmup.Secret : keys.Secret;
                if (secret is null)
                {
                    error = "alg HS256 is not accepted here (no jwt_secret_file)";
                    return false;
                }
                return CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(secret, signed), signature);
            case "RS256":
            case "ES256":
                bool any = false;
                foreach (JwtPublicKey key in keys.PublicKeys)
                {
                    // A token naming its key is checked against that key only (or the keys that carry no kid, as PEM keys do).
                    if (key.Algorithm != alg || (kid is not null && key.Kid is not null && key.Kid != kid)) continue;
                    any = true;
                    if (key.Verifies(signed, signature)) return true;
                }
                if (!any) error = $"alg {alg} is not accepted here (no such key in jwt_public_key_file{(kid is null ? "" : $" for kid '{kid}'")})";
                return false;
            case null:
                error = "alg missing";
                return false;
            default:
                error = $"alg {alg} is not accepted (HS256, RS256 or ES256)";
                return false;
        }
    }

    private static JwtClaims? ReadClaims(byte[] payload, long nowUnixSeconds, long leewaySeconds, WarmupGrant? warmup, out string error)
    {
        using JsonDocument p = JsonDocument.Parse(payload);
        JsonElement root = p.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "claims are not an object";
            return null;
        }
        if (!root.TryGetProperty("sub", out JsonElement sub) || sub.ValueKind != JsonValueKind.String)
        {
            error = "sub missing";
            return null;
        }
        if (warmup is not null && sub.GetString() != warmup.Subject)
        {
            error = "bad signature"; // a warm-up grant signs for the warm-up user only
            return null;
        }
        if (!root.TryGetProperty("exp", out JsonElement exp) || exp.ValueKind != JsonValueKind.Number || !exp.TryGetDouble(out double expSeconds))
        {
            error = "exp missing";
            return null;
        }
        if (nowUnixSeconds > (long)expSeconds + leewaySeconds)
        {
            error = "token expired";
            return null;
        }
        var rooms = new List<string>();
        if (root.TryGetProperty("rooms", out JsonElement roomsClaim) && roomsClaim.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement room in roomsClaim.EnumerateArray())
            {
                if (room.ValueKind == JsonValueKind.String) rooms.Add(room.GetString()!);
            }
        }
        error = "";
        return new JwtClaims(sub.GetString()!, (long)expSeconds, rooms.ToArray());
    }

    private static string? StringProperty(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[]? DecodeSegment(string segment)
    {
        if (segment.Length == 0 || !Base64Url.IsValid(segment)) return null; // e.g. a lone trailing character
        byte[] bytes = new byte[Base64Url.GetMaxDecodedLength(segment.Length)];
        return Base64Url.TryDecodeFromChars(segment, bytes, out int written) ? bytes.AsSpan(0, written).ToArray() : null;
    }

    /// <summary>The warm-up's one-off HS256 key; disposing it withdraws it.</summary>
    internal sealed class WarmupGrant(JwtVerifier verifier, string subject, string kid, byte[] secret) : IDisposable
    {
        public string Subject { get; } = subject;

        public string Kid { get; } = kid;

        public byte[] Secret { get; } = secret;

        /// <summary>An HS256 token for the subject, valid for <paramref name="lifetimeSeconds"/>.</summary>
        public string Token(long nowUnixSeconds, long lifetimeSeconds, string room)
        {
            string header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"{Kid}\"}}"));
            string claims = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
                $"{{\"sub\":\"{Subject}\",\"exp\":{nowUnixSeconds + lifetimeSeconds},\"rooms\":[\"{room}\"]}}"));
            string signed = header + "." + claims;
            return signed + "." + Base64Url.EncodeToString(HMACSHA256.HashData(Secret, Encoding.ASCII.GetBytes(signed)));
        }

        public void Dispose() => Interlocked.CompareExchange(ref verifier._warmup, null, this);
    }
}

/// <summary>The claims PresenceD uses.</summary>
internal sealed record JwtClaims(string Subject, long ExpiresAtUnixSeconds, string[] Rooms);
