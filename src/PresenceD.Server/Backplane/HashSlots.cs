using System.Text;

namespace PresenceD.Server.Backplane;

/// <summary>
/// Redis Cluster's key-to-slot rule (CRC16-XMODEM of the hash tag, mod 16384) and the names built on it: every key
/// of a room or a user carries the name as its hash tag, so all of them share one slot and one script may touch them
/// together; and each slot has a fixed clock key (<see cref="ClockKey"/>), so the cluster clock lives on the shard
/// that owns the keys it times.
/// </summary>
internal static class HashSlots
{
    public const int Count = 16384;

    private static readonly ushort[] Table = BuildTable();
    private static readonly Lazy<string[]> SlotTags = new(BuildSlotTags);

    /// <summary>
    /// <paramref name="name"/> as a hash tag, braces included. A name that starts with '}' would end the tag at once (an
    /// empty tag hashes the whole key, so a room's keys would scatter over slots): it gets a U+0001 in front, which no
    /// name can contain (control characters are refused), so the tag is unique to the group of such names and constant
    /// across the name's keys.
    /// </summary>
    public static string Tag(string name) => name.Length > 0 && name[0] == '}' ? "{\u0001" + name + "}" : "{" + name + "}";

    /// <summary>The slot of a key, with the hash-tag rule: the part between the first '{' and the next '}', when not empty.</summary>
    public static int SlotOf(string key)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(key);
        ReadOnlySpan<byte> hashed = bytes;
        int open = hashed.IndexOf((byte)'{');
        if (open >= 0)
        {
            int close = hashed[(open + 1)..].IndexOf((byte)'}');
            if (close > 0) hashed = hashed.Slice(open + 1, close);
        }
        return Crc16(hashed) % Count;
    }

    /// <summary>The clock key of the slot that holds <paramref name="key"/>: `pd:c:{t}` where t is a short tag hashing to that slot.</summary>
    public static string ClockKey(string key) => "pd:c:{" + SlotTags.Value[SlotOf(key)] + "}";

    public static ushort Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (byte b in data) crc = (ushort)((crc << 8) ^ Table[((crc >> 8) ^ b) & 0xff]);
        return crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            int crc = i << 8;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            table[i] = (ushort)crc;
        }
        return table;
    }

    // The first base-36 number hashing to each slot (about 170,000 tries, a few milliseconds, once per process).
    private static string[] BuildSlotTags()
    {
        var tags = new string[Count];
        int found = 0;
        Span<byte> buffer = stackalloc byte[16];
        for (long n = 0; found < Count; n++)
        {
            int length = Base36(n, buffer);
            int slot = Crc16(buffer[..length]) % Count;
            if (tags[slot] is not null) continue;
            tags[slot] = Encoding.ASCII.GetString(buffer[..length]);
            found++;
        }
        return tags;
    }

    private static int Base36(long n, Span<byte> buffer)
    {
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        int length = 0;
        do
        {
            buffer[length++] = (byte)digits[(int)(n % 36)];
            n /= 36;
        }
        while (n > 0);
        buffer[..length].Reverse();
        return length;
    }
}
