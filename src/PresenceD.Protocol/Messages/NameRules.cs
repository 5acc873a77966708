using System;
using System.Buffers;

namespace PresenceD.Protocol.Messages;

/// <summary>
/// The rules for room and user names (PROTOCOL.md "Names and limits"): 1..max bytes of well-formed
/// UTF-8 without control characters (C0, DEL, C1). Checked on the received bytes, without decoding.
/// </summary>
public static class NameRules
{
    private const int StackCopyLimit = 512;

    /// <summary>
    /// <see cref="ErrorCode.None"/> when valid; <see cref="ErrorCode.TooLarge"/> over <paramref name="maxBytes"/>;
    /// <see cref="ErrorCode.BadRequest"/> when empty, not UTF-8 or containing a control character.
    /// </summary>
    public static ErrorCode Check(in ReadOnlySequence<byte> name, int maxBytes)
    {
        if (name.Length > maxBytes) return ErrorCode.TooLarge;
        if (name.IsSingleSegment) return Check(name.First.Span, maxBytes);
        int length = (int)name.Length;
        // maxBytes is the caller's: a large one must not turn into a stack overflow.
        if (length <= StackCopyLimit)
        {
            Span<byte> copy = stackalloc byte[length];
            name.CopyTo(copy);
            return Check(copy, maxBytes);
        }
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            name.CopyTo(rented);
            return Check(rented.AsSpan(0, length), maxBytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Same as the sequence overload.</summary>
    public static ErrorCode Check(ReadOnlySpan<byte> name, int maxBytes)
    {
        if (name.Length == 0) return ErrorCode.BadRequest;
        if (name.Length > maxBytes) return ErrorCode.TooLarge;
        int i = 0;
        while (i < name.Length)
        {
            byte b = name[i];
            if (b < 0x80)
            {
                if (b < 0x20 || b == 0x7f) return ErrorCode.BadRequest;
                i++;
                continue;
            }
            int length;
            int codePoint;
            if ((b & 0xe0) == 0xc0) { length = 2; codePoint = b & 0x1f; }
            else if ((b & 0xf0) == 0xe0) { length = 3; codePoint = b & 0x0f; }
            else if ((b & 0xf8) == 0xf0) { length = 4; codePoint = b & 0x07; }
            else return ErrorCode.BadRequest;
            if (i + length > name.Length) return ErrorCode.BadRequest;
            for (int k = 1; k < length; k++)
            {
                byte c = name[i + k];
                if ((c & 0xc0) != 0x80) return ErrorCode.BadRequest;
                codePoint = (codePoint << 6) | (c & 0x3f);
            }
            bool overlong = (length == 2 && codePoint < 0x80) || (length == 3 && codePoint < 0x800) || (length == 4 && codePoint < 0x10000);
            bool surrogate = codePoint >= 0xd800 && codePoint <= 0xdfff;
            bool c1 = codePoint >= 0x80 && codePoint <= 0x9f;
            if (overlong || surrogate || c1 || codePoint > 0x10ffff) return ErrorCode.BadRequest;
            i += length;
        }
        return ErrorCode.None;
    }
}
