using System;
using System.Globalization;
using System.Text;

namespace PresenceD.Client.Internal;

/// <summary>
/// The <c>exp</c> claim of a JWT, read without verifying anything: the client only needs to know when to ask for a
/// new token, and the server checks every token it is given. A small reader of the payload's top-level object, so
/// the client needs no JSON package on netstandard2.1.
/// </summary>
internal static class JwtExpiry
{
    /// <summary>The token's exp (seconds since 1970, fraction cut off as the server does); false when it is not a JWT with a numeric exp.</summary>
    public static bool TryRead(string? token, out long exp)
    {
        exp = 0;
        if (token is null) return false;
        int first = token.IndexOf('.');
        int second = first < 0 ? -1 : token.IndexOf('.', first + 1);
        if (second < 0) return false;
        string? json = DecodeSegment(token.Substring(first + 1, second - first - 1));
        return json is not null && TryFindExp(json, out exp);
    }

    private static string? DecodeSegment(string segment)
    {
        var base64 = new StringBuilder(segment.Length + 3);
        foreach (char c in segment) base64.Append(c == '-' ? '+' : c == '_' ? '/' : c);
        while (base64.Length % 4 != 0) base64.Append('=');
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(base64.ToString()));
        }
        catch (FormatException)
        {
            return null; // not base64url: not a JWT, so nothing to schedule
        }
    }

    private static bool TryFindExp(string json, out long exp)
    {
        exp = 0;
        int i = SkipSpace(json, 0);
        if (i >= json.Length || json[i] != '{') return false;
        i++;
        while (true)
        {
            i = SkipSpace(json, i);
            if (i >= json.Length || json[i] != '"') return false;
            int keyStart = i + 1;
            i = SkipString(json, i);
            if (i < 0) return false;
            bool isExp = i - keyStart - 1 == 3 && string.CompareOrdinal(json, keyStart, "exp", 0, 3) == 0;
            i = SkipSpace(json, i);
            if (i >= json.Length || json[i] != ':') return false;
            i = SkipSpace(json, i + 1);
            if (isExp) return TryReadNumber(json, i, out exp);
            i = SkipValue(json, i);
            if (i < 0) return false;
            i = SkipSpace(json, i);
            if (i >= json.Length || json[i] != ',') return false;
            i++;
        }
    }

    private static bool TryReadNumber(string json, int start, out long exp)
    {
        int end = start;
        while (end < json.Length && (char.IsDigit(json[end]) || json[end] is '-' or '+' or '.' or 'e' or 'E')) end++;
        exp = 0;
        if (end == start || !double.TryParse(json.AsSpan(start, end - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return false;
        if (double.IsNaN(value) || value < long.MinValue || value > long.MaxValue) return false;
        exp = (long)Math.Truncate(value);
        return true;
    }

    /// <summary>The index after the value starting at <paramref name="i"/>, or -1 when the text ends first.</summary>
    private static int SkipValue(string json, int i)
    {
        int depth = 0;
        while (i < json.Length)
        {
            char c = json[i];
            if (c == '"')
            {
                i = SkipString(json, i);
                if (i < 0) return -1;
                if (depth == 0) return i;
                continue;
            }
            if (c is '{' or '[') depth++;
            else if (c is '}' or ']')
            {
                if (depth == 0) return i;
                depth--;
                if (depth == 0) return i + 1;
            }
            else if (c == ',' && depth == 0) return i;
            i++;
        }
        return -1;
    }

    /// <summary>The index after the closing quote of the string whose opening quote is at <paramref name="i"/>, or -1.</summary>
    private static int SkipString(string json, int i)
    {
        for (i++; i < json.Length; i++)
        {
            if (json[i] == '\\') i++;
            else if (json[i] == '"') return i + 1;
        }
        return -1;
    }

    private static int SkipSpace(string json, int i)
    {
        while (i < json.Length && json[i] is ' ' or '\t' or '\r' or '\n') i++;
        return i;
    }
}
