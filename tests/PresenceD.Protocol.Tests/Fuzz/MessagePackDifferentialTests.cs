using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using PresenceD.Protocol.MessagePack;
using Xunit.Abstractions;
using Oracle = global::MessagePack;

namespace PresenceD.Protocol.Tests.Fuzz;

/// <summary>
/// Differential check of our <see cref="MessagePackReader"/> against the MessagePack 2.5.307 package's reader
/// (a test-only oracle): random values in every width the spec allows, and mutations of them, are read to a
/// canonical text by both. Where both accept, the value and the bytes consumed must be the same; otherwise
/// both must refuse. Both walks stop at the same depth (ours refuses deeper nesting: docs/protocol.md), so the
/// oracle is held to the limit too. About 2 s in CI; PD_FUZZ_MINUTES runs it for that long (tools/fuzz.sh).
/// </summary>
public sealed class MessagePackDifferentialTests(ITestOutputHelper output)
{
    private const int MaxDepth = ProtocolConstants.MaxSkipDepth;

    [Fact]
    public void Our_reader_and_the_MessagePack_package_read_the_same_value_or_both_refuse()
    {
        string? minutes = Environment.GetEnvironmentVariable("PD_FUZZ_MINUTES");
        TimeSpan duration = minutes is null ? TimeSpan.FromSeconds(2) : TimeSpan.FromMinutes(double.Parse(minutes, CultureInfo.InvariantCulture));
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PD_FUZZ_SEED"), CultureInfo.InvariantCulture, out int s) ? s : 4242;
        var random = new Random(seed);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long inputs = 0, bothAccepted = 0, bothRefused = 0;
        var disagreements = new List<string>();
        var value = new ArrayBufferWriter<byte>();
        while (clock.Elapsed < duration && disagreements.Count < 10)
        {
            value.ResetWrittenCount();
            WriteValue(value, random, 0);
            byte[] input = value.WrittenSpan.ToArray();
            if (random.Next(2) == 0) input = Mutate(input, random);
            inputs++;
            string? ours = Ours(input);
            string? theirs = Theirs(input);
            if (ours is null && theirs is null) bothRefused++;
            else if (ours == theirs) bothAccepted++;
            else disagreements.Add($"{Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 128)))}: ours {ours ?? "refused"}, MessagePack 2.5.307 {theirs ?? "refused"}");
        }
        string figures = $"seed {seed}: {inputs} inputs in {clock.Elapsed.TotalSeconds:0.0} s ({inputs / clock.Elapsed.TotalSeconds:0}/s), both accepted {bothAccepted}, both refused {bothRefused}";
        output.WriteLine(figures);
        if (Environment.GetEnvironmentVariable("PD_FUZZ_OUT") is { Length: > 0 } file) File.AppendAllText(file, "msgpack differential: " + figures + "\n");
        Assert.True(disagreements.Count == 0, "the readers disagree:\n" + string.Join("\n", disagreements));
        Assert.True(bothAccepted > 100 && bothRefused > 100, "too little reached both sides: " + figures);
    }

    /// <summary>Our reader's canonical text of the one value <paramref name="input"/> holds (and the bytes it took), or null when it refuses.</summary>
    private static string? Ours(byte[] input)
    {
        var reader = new MessagePackReader(new ReadOnlySequence<byte>(input));
        var text = new StringBuilder();
        try
        {
            OursValue(ref reader, input, text, 0);
        }
        catch (ProtocolException)
        {
            return null;
        }
        return text.Append(" @").Append(reader.Consumed).ToString();
    }

    private static void OursValue(ref MessagePackReader reader, byte[] input, StringBuilder text, int depth)
    {
        if (depth >= MaxDepth) throw new ProtocolException("too deep");
        MessagePackType type = reader.PeekType();
        byte code = input[(int)reader.Consumed];
        switch (type)
        {
            case MessagePackType.Nil: reader.ReadNil(); text.Append("nil"); break;
            case MessagePackType.Boolean: text.Append(reader.ReadBoolean() ? "true" : "false"); break;
            case MessagePackType.Integer:
                if (code == 0xcf) text.Append("u:").Append(reader.ReadUInt64());
                else text.Append("i:").Append(reader.ReadInt64());
                break;
            case MessagePackType.Float: text.Append("f:").Append(BitConverter.DoubleToInt64Bits(reader.ReadDouble())); break;
            case MessagePackType.String: text.Append("s:").Append(Convert.ToHexString(reader.ReadStringSequence().ToArray())); break;
            case MessagePackType.Binary: text.Append("b:").Append(Convert.ToHexString(reader.ReadBinarySequence().ToArray())); break;
            case MessagePackType.Array:
                int items = reader.ReadArrayHeader();
                text.Append('[').Append(items).Append(':');
                for (int i = 0; i < items; i++) OursValue(ref reader, input, text.Append(' '), depth + 1);
                text.Append(']');
                break;
            case MessagePackType.Map:
                int pairs = reader.ReadMapHeader();
                text.Append('{').Append(pairs).Append(':');
                for (int i = 0; i < pairs * 2; i++) OursValue(ref reader, input, text.Append(' '), depth + 1);
                text.Append('}');
                break;
            case MessagePackType.Extension:
                long before = reader.Consumed;
                reader.Skip();
                text.Append("x:").Append(reader.Consumed - before);
                break;
            default: throw new ProtocolException("unknown type");
        }
    }

    /// <summary>The package's canonical text of the same, or null when it refuses.</summary>
    private static string? Theirs(byte[] input)
    {
        var reader = new Oracle.MessagePackReader(new ReadOnlyMemory<byte>(input));
        var text = new StringBuilder();
        try
        {
            TheirsValue(ref reader, text, 0);
        }
        // The package refuses in these ways; a truncated bin or str comes out of its ReadOnlySequence slice as ArgumentOutOfRange.
        catch (Exception e) when (e is Oracle.MessagePackSerializationException or EndOfStreamException or InvalidOperationException or OverflowException or ArgumentOutOfRangeException)
        {
            return null;
        }
        return text.Append(" @").Append(reader.Consumed).ToString();
    }

    private static void TheirsValue(ref Oracle.MessagePackReader reader, StringBuilder text, int depth)
    {
        if (depth >= MaxDepth) throw new Oracle.MessagePackSerializationException("too deep");
        if (reader.End) throw new EndOfStreamException();
        byte code = reader.NextCode;
        switch (reader.NextMessagePackType)
        {
            case Oracle.MessagePackType.Nil: reader.ReadNil(); text.Append("nil"); break;
            case Oracle.MessagePackType.Boolean: text.Append(reader.ReadBoolean() ? "true" : "false"); break;
            case Oracle.MessagePackType.Integer:
                if (code == 0xcf) text.Append("u:").Append(reader.ReadUInt64());
                else text.Append("i:").Append(reader.ReadInt64());
                break;
            case Oracle.MessagePackType.Float: text.Append("f:").Append(BitConverter.DoubleToInt64Bits(reader.ReadDouble())); break;
            case Oracle.MessagePackType.String:
                ReadOnlySequence<byte>? str = reader.ReadStringSequence();
                text.Append("s:").Append(Convert.ToHexString(str!.Value.ToArray()));
                break;
            case Oracle.MessagePackType.Binary:
                ReadOnlySequence<byte>? bin = reader.ReadBytes();
                text.Append("b:").Append(Convert.ToHexString(bin!.Value.ToArray()));
                break;
            case Oracle.MessagePackType.Array:
                int items = reader.ReadArrayHeader();
                text.Append('[').Append(items).Append(':');
                for (int i = 0; i < items; i++) TheirsValue(ref reader, text.Append(' '), depth + 1);
                text.Append(']');
                break;
            case Oracle.MessagePackType.Map:
                int pairs = reader.ReadMapHeader();
                text.Append('{').Append(pairs).Append(':');
                for (int i = 0; i < pairs * 2; i++) TheirsValue(ref reader, text.Append(' '), depth + 1);
                text.Append('}');
                break;
            case Oracle.MessagePackType.Extension:
                long before = reader.Consumed;
                Oracle.ExtensionHeader header = reader.ReadExtensionFormatHeader();
                if (reader.Sequence.Length - reader.Consumed < header.Length) throw new EndOfStreamException();
                reader.ReadRaw(header.Length);
                text.Append("x:").Append(reader.Consumed - before);
                break;
            default: throw new Oracle.MessagePackSerializationException("unknown type");
        }
    }

    /// <summary>One random value, in any of the widths the spec allows (not only the smallest).</summary>
    private static void WriteValue(ArrayBufferWriter<byte> output, Random random, int depth)
    {
        int kind = random.Next(depth > 6 ? 9 : 11);
        switch (kind)
        {
            case 0: Byte(output, 0xc0); break;
            case 1: Byte(output, random.Next(2) == 0 ? (byte)0xc2 : (byte)0xc3); break;
            case 2: Byte(output, (byte)random.Next(0x80)); break; // positive fixint
            case 3: Byte(output, (byte)(0xe0 | random.Next(32))); break; // negative fixint
            case 4:
                byte[] widths = [0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3];
                byte code = widths[random.Next(widths.Length)];
                Byte(output, code);
                Random(output, random, code switch { 0xcc or 0xd0 => 1, 0xcd or 0xd1 => 2, 0xce or 0xd2 => 4, _ => 8 });
                break;
            case 5:
                if (random.Next(2) == 0) { Byte(output, 0xca); Random(output, random, 4); }
                else { Byte(output, 0xcb); Random(output, random, 8); }
                break;
            case 6: Sized(output, random, [(0xa0, 31), (0xd9, 1), (0xda, 2), (0xdb, 4)]); break; // str
            case 7: Sized(output, random, [(0xc4, 1), (0xc5, 2), (0xc6, 4)]); break; // bin
            case 8: Sized(output, random, [(0xd4, -1), (0xd5, -2), (0xd6, -4), (0xd7, -8), (0xd8, -16), (0xc7, 1), (0xc8, 2), (0xc9, 4)], ext: true); break;
            case 9:
            case 10:
                bool map = kind == 10;
                int count = random.Next(5);
                int width = random.Next(3);
                if (width == 0) Byte(output, (byte)((map ? 0x80 : 0x90) | count));
                else if (width == 1) { Byte(output, map ? (byte)0xde : (byte)0xdc); Big(output, count, 2); }
                else { Byte(output, map ? (byte)0xdf : (byte)0xdd); Big(output, count, 4); }
                for (int i = 0; i < count * (map ? 2 : 1); i++) WriteValue(output, random, depth + 1);
                break;
        }
    }

    /// <summary>A str, bin or ext: the header of one of <paramref name="forms"/> (a fix form: max length; negative: fixext size), then the bytes.</summary>
    private static void Sized(ArrayBufferWriter<byte> output, Random random, (int Code, int Size)[] forms, bool ext = false)
    {
        (int code, int size) = forms[random.Next(forms.Length)];
        int length;
        if (size < 0) length = -size;
        else if (code == 0xa0) length = random.Next(32);
        else length = random.Next(40);
        if (code == 0xa0) Byte(output, (byte)(0xa0 | length));
        else
        {
            Byte(output, (byte)code);
            if (size > 0) Big(output, length, size);
        }
        if (ext) Byte(output, (byte)random.Next(256));
        Random(output, random, length);
    }

    private static byte[] Mutate(byte[] input, Random random)
    {
        var bytes = new List<byte>(input);
        int edits = random.Next(1, 4);
        for (int i = 0; i < edits; i++)
        {
            int at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0 when bytes.Count > 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1 when bytes.Count > 0: bytes[at] = (byte)random.Next(256); break;
                case 2: bytes.Insert(at, (byte)random.Next(256)); break;
                default: if (bytes.Count > 0) bytes.RemoveRange(at, bytes.Count - at); break; // truncated
            }
        }
        return bytes.ToArray();
    }

    private static void Byte(ArrayBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void Big(ArrayBufferWriter<byte> output, int value, int size)
    {
        Span<byte> span = output.GetSpan(size);
        if (size == 1) span[0] = (byte)value;
        else if (size == 2) BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)value);
        else BinaryPrimitives.WriteUInt32BigEndian(span, (uint)value);
        output.Advance(size);
    }

    private static void Random(ArrayBufferWriter<byte> output, Random random, int count)
    {
        random.NextBytes(output.GetSpan(count)[..count]);
        output.Advance(count);
    }
}
