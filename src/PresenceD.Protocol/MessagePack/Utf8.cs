using System;
using System.Buffers;
using System.Text;

namespace PresenceD.Protocol.MessagePack;

/// <summary>UTF-8 helpers that work on sequences and on both target frameworks.</summary>
public static class Utf8
{
    /// <summary>Decodes (invalid bytes become U+FFFD).</summary>
    public static string GetString(in ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsSingleSegment) return Encoding.UTF8.GetString(bytes.First.Span);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>UTF-8 byte count of a string.</summary>
    public static int GetByteCount(string value) => Encoding.UTF8.GetByteCount(value);

}
