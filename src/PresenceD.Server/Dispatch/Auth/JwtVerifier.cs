using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PresenceD.Server.Dispatch.Auth;

/// <summary>
/// HS256 JWT verification with the BCL only: the signature is compared in constant time, any alg but
/// HS256 is refused (no "none", no key confusion), exp is required and checked with the leeway.
/// </summary>
internal sealed class JwtVerifier
{
    private readonly byte[] _secret;

    public JwtVerifier(byte[] secret) => _secret = secret;

    /// <summary>Loads the secret: the file's bytes without trailing whitespace.</summary>
    public static JwtVerifier FromFile(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int length = bytes.Length;
        while (length > 0 && bytes[length - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') length--;
        if (length == 0) throw new InvalidOperationException($"jwt_secret_file {path} is empty");
        return new JwtVerifier(bytes.AsSpan(0, length).ToArray());
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
            using (JsonDocument h = JsonDocument.Parse(header))
            {
                if (h.RootElement.ValueKind != JsonValueKind.Object || !h.RootElement.TryGetProperty("alg", out JsonElement alg)
                    || alg.ValueKind != JsonValueKind.String || alg.GetString() != "HS256")
                {
                    error = "alg must be HS256";
                    return null;
                }
            }
            byte[] expected = HMACSHA256.HashData(_secret, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
            if (!CryptographicOperations.FixedTimeEquals(expected, signature))
            {
                error = "bad signature";
                return null;
            }
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
        catch (JsonException)
        {
            error = "bad JSON";
            return null;
        }
    }

    private static byte[]? DecodeSegment(string segment)
    {
        if (segment.Length == 0 || !Base64Url.IsValid(segment)) return null; // e.g. a lone trailing character
        byte[] bytes = new byte[Base64Url.GetMaxDecodedLength(segment.Length)];
        return Base64Url.TryDecodeFromChars(segment, bytes, out int written) ? bytes.AsSpan(0, written).ToArray() : null;
    }
}

/// <summary>The claims PresenceD uses.</summary>
internal sealed record JwtClaims(string Subject, long ExpiresAtUnixSeconds, string[] Rooms);
