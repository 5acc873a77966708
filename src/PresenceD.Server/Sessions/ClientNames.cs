using System.Buffers;
using System.Collections.Concurrent;
using PresenceD.Protocol.MessagePack;

namespace PresenceD.Server.Sessions;

/// <summary>
/// HELLO's client names, shared: thousands of connections of one game build send the same name, so
/// each distinct name is kept once (bounded, so a client cannot grow the table without limit).
/// </summary>
internal static class ClientNames
{
    private const int MaxDistinct = 1024;
    private const int MaxLength = 64;

    private static readonly ConcurrentDictionary<string, string> Names = new(StringComparer.Ordinal);

    public static string Canonical(in ReadOnlySequence<byte> utf8)
    {
        if (utf8.IsEmpty) return "";
        string name = Utf8.GetString(utf8.Length > MaxLength ? utf8.Slice(0, MaxLength) : utf8);
        if (Names.TryGetValue(name, out string? shared)) return shared;
        return Names.Count < MaxDistinct ? Names.GetOrAdd(name, name) : name;
    }
}
