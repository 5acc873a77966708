using System.Text;

namespace PresenceD.Cli;

/// <summary>Shows opaque payloads: as text when they are printable UTF-8, else as base64.</summary>
internal static class PayloadText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool TryText(byte[] payload, out string? text)
    {
        text = null;
        try
        {
            string decoded = StrictUtf8.GetString(payload);
            if (decoded.Any(c => char.IsControl(c) && c != '\n' && c != '\t')) return false;
            text = decoded;
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    public static string Describe(byte[] payload) =>
        TryText(payload, out string? text) ? text! : $"<{payload.Length} bytes, base64 {Convert.ToBase64String(payload)}>";
}
