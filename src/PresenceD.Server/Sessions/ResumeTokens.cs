using System.Security.Cryptography;

namespace PresenceD.Server.Sessions;

/// <summary>
/// Resume tokens: 128 random bits (base64url) then <c>.</c> and the session's conn id. Only the server-side table
/// gives a token meaning (a forged or guessed one names nothing); the conn id in it names the node that holds the
/// session, for the cross-node hand-over to come. The user is bound by the table, which checks it on every take.
/// </summary>
internal static class ResumeTokens
{
    private const int RandomBytes = 16;

    public static string New(string connId)
    {
        Span<byte> random = stackalloc byte[RandomBytes];
        RandomNumberGenerator.Fill(random);
        return Convert.ToBase64String(random).TrimEnd('=').Replace('+', '-').Replace('/', '_') + "." + connId;
    }

    /// <summary>The conn id a well-formed token carries, or "" (the cross-node seam reads the node from it).</summary>
    public static string ConnIdOf(string token)
    {
        int dot = token.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? "" : token[(dot + 1)..];
    }
}
