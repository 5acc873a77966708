using System.Security.Cryptography;
using System.Text;

namespace PresenceD.Server.Sessions;

/// <summary>
/// Resume tokens: 128 random bits, then <c>.</c> and the id of the node that holds the session, both base64url. Only
/// that node's table gives a token meaning (a forged or guessed one names nothing); the node id in it tells another
/// node whom to ask (the cross-node resume). A session handed over gets a new token naming its new node. The user is
/// bound by the table, which checks it on every take.
/// </summary>
internal static class ResumeTokens
{
    private const int RandomBytes = 16;

    public static string New(string nodeId)
    {
        Span<byte> random = stackalloc byte[RandomBytes];
        RandomNumberGenerator.Fill(random);
        return Base64Url(random) + "." + Base64Url(Encoding.UTF8.GetBytes(nodeId));
    }

    /// <summary>The node a well-formed token names, or "" (a token of an older server, or not one at all).</summary>
    public static string NodeOf(string token)
    {
        int dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0) return "";
        try
        {
            return Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan(dot + 1)));
        }
        catch (FormatException)
        {
            return "";
        }
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}
