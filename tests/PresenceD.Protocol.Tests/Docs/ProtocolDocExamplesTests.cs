using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;

namespace PresenceD.Protocol.Tests.Docs;

/// <summary>
/// The hex examples of docs/protocol.md, checked against the codec so the document cannot drift from it: each
/// ```hex block's bytes are the frame its first line writes as a value, every line names the format and value of
/// its own bytes, our decoders read the fields the value gives, and our encoders write the very same bytes.
/// </summary>
public sealed class ProtocolDocExamplesTests
{
    private static readonly Lazy<IReadOnlyList<Example>> Examples = new(() => Example.ParseAll(File.ReadAllText(DocPath())));

    public static TheoryData<string> ExampleNames
    {
        get
        {
            var names = new TheoryData<string>();
            foreach (Example example in Examples.Value) names.Add(example.Name);
            return names;
        }
    }

    [Fact]
    public void The_document_shows_a_hello_welcome_and_a_join_joined_exchange()
    {
        string[] names = Examples.Value.Select(e => e.Name).ToArray();
        Assert.Equal(names.Distinct().Count(), names.Length);
        Assert.Equal(new[] { "HELLO", "WELCOME", "JOIN", "JOINED", "HELLO#2", "WELCOME#2", "WELCOME#3", "HELLO#3", "WELCOME#4" }, names.Where(n => n.Split('#')[0] is "HELLO" or "WELCOME" or "JOIN" or "JOINED"));
    }

    [Theory]
    [MemberData(nameof(ExampleNames))]
    public void The_length_prefix_counts_the_body(string name)
    {
        Example example = Find(name);
        (byte[] prefix, string annotation) = example.Lines[0];
        Assert.Equal(4, prefix.Length);
        Assert.Equal((uint)example.Body.Length, BinaryPrimitives.ReadUInt32BigEndian(prefix));
        Assert.Equal($"length {example.Body.Length}", annotation);
    }

    [Theory]
    [MemberData(nameof(ExampleNames))]
    public void The_bytes_are_the_value_on_the_first_line(string name)
    {
        Example example = Find(name);
        var reader = new MessagePackReader(new ReadOnlySequence<byte>(example.Body));
        object? read = ReadAny(ref reader);
        Assert.True(reader.End, $"{name}: bytes after the array");
        AssertSame(example.Value, read, name);
        Assert.Equal(name.Split('#')[0], OpName(Convert.ToInt64(example.Value[0], CultureInfo.InvariantCulture)));
    }

    [Theory]
    [MemberData(nameof(ExampleNames))]
    public void Each_line_is_one_item_and_names_its_format_and_value(string name)
    {
        foreach ((byte[] bytes, string annotation) in Find(name).Lines.Skip(1))
        {
            string described = Describe(bytes);
            Assert.True(annotation == described || annotation.StartsWith(described + " (", StringComparison.Ordinal),
                $"{name}: bytes {Convert.ToHexString(bytes)} are '{described}', the line says '{annotation}'");
        }
    }

    [Theory]
    [MemberData(nameof(ExampleNames))]
    public void Our_decoder_reads_the_fields_of_the_value(string name)
    {
        Example example = Find(name);
        var body = new ReadOnlySequence<byte>(example.Body);
        long op = Convert.ToInt64(example.Value[0], CultureInfo.InvariantCulture);
        List<object?> decoded = op < 64 ? FromRequest(ClientRequestDecoder.Decode(body), example.Value.Count) : FromServerMessage(ServerMessageDecoder.Decode(body));
        AssertSame(example.Value, decoded, name);
    }

    [Theory]
    [MemberData(nameof(ExampleNames))]
    public void Our_encoder_writes_the_same_bytes(string name)
    {
        Example example = Find(name);
        using var output = new FrameBuffer(256);
        Encode(output, example.Value);
        Assert.Equal(Convert.ToHexString(example.Frame), Convert.ToHexString(output.WrittenSpan));
    }

    private static Example Find(string name) => Examples.Value.Single(e => e.Name == name);

    // --- generic reading and describing of MessagePack items -------------------------------------------------

    private static object? ReadAny(ref MessagePackReader reader)
    {
        switch (reader.PeekType())
        {
            case MessagePackType.Nil: reader.ReadNil(); return null;
            case MessagePackType.Boolean: return reader.ReadBoolean();
            case MessagePackType.Integer: return reader.ReadInt64();
            case MessagePackType.String: return reader.ReadString();
            case MessagePackType.Binary: return reader.ReadBinarySequence().ToArray();
            case MessagePackType.Array:
                int count = reader.ReadArrayHeader();
                var items = new List<object?>(count);
                for (int i = 0; i < count; i++) items.Add(ReadAny(ref reader));
                return items;
            default: throw new InvalidOperationException($"version 1 frames hold no {reader.PeekType()}");
        }
    }

    /// <summary>"format value" of the one item in <paramref name="bytes"/> (an array: its header only).</summary>
    private static string Describe(byte[] bytes)
    {
        byte code = bytes[0];
        if (code is >= 0x90 and <= 0x9f) return Whole(bytes, 1, $"fixarray {code & 0x0f}");
        if (code == 0xdc) return Whole(bytes, 3, $"array16 {BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(1))}");
        if (code == 0xdd) return Whole(bytes, 5, $"array32 {BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(1))}");
        var reader = new MessagePackReader(new ReadOnlySequence<byte>(bytes));
        string text = reader.PeekType() switch
        {
            MessagePackType.Nil => ReadNil(ref reader),
            MessagePackType.Boolean => reader.ReadBoolean() ? "true" : "false",
            MessagePackType.Integer => $"{IntegerFormat(code)} {reader.ReadInt64().ToString(CultureInfo.InvariantCulture)}",
            MessagePackType.String => $"{StringFormat(code)} \"{reader.ReadString()}\"",
            MessagePackType.Binary => $"bin{8 << (code - 0xc4)} \"{Ascii(reader.ReadBinarySequence().ToArray())}\"",
            var other => throw new InvalidOperationException($"no {other} in version 1 frames"),
        };
        Assert.True(reader.End, $"{Convert.ToHexString(bytes)} is more than one item");
        return text;
    }

    private static string ReadNil(ref MessagePackReader reader)
    {
        reader.ReadNil();
        return "nil";
    }

    private static string Whole(byte[] bytes, int headerLength, string text)
    {
        Assert.True(bytes.Length == headerLength, $"{Convert.ToHexString(bytes)}: an array header line holds the header only");
        return text;
    }

    private static string IntegerFormat(byte code) => code switch
    {
        <= 0x7f or >= 0xe0 => "fixint",
        0xcc => "uint8",
        0xcd => "uint16",
        0xce => "uint32",
        0xcf => "uint64",
        0xd0 => "int8",
        0xd1 => "int16",
        0xd2 => "int32",
        _ => "int64",
    };

    private static string StringFormat(byte code) => code switch
    {
        <= 0xbf => "fixstr",
        0xd9 => "str8",
        0xda => "str16",
        _ => "str32",
    };

    private static string Ascii(byte[] bytes)
    {
        Assert.All(bytes, b => Assert.InRange(b, (byte)0x20, (byte)0x7e));
        return Encoding.ASCII.GetString(bytes);
    }

    // --- the typed decoders' results as values, in wire order -------------------------------------------------

    private static List<object?> FromRequest(ClientRequest r, int count)
    {
        var v = new List<object?> { (long)r.Op };
        switch (r.Op)
        {
            case OpCode.Hello:
                v.AddRange([r.Rid, r.Version, r.HasCredential ? Utf8.GetString(r.Credential) : null, Utf8.GetString(r.ClientName),
                    r.HasResume ? Utf8.GetString(r.ResumeToken) : null, r.HasFeatures ? r.Features : null]);
                break;
            case OpCode.Join:
                v.AddRange([r.Rid, Utf8.GetString(r.Room), r.HasMeta ? r.Meta.ToArray() : null,
                    r.HasSince ? new List<object?> { Utf8.GetString(r.SinceEpoch), r.SinceOffset } : null, r.HasWill ? r.Will.ToArray() : null]);
                break;
            case OpCode.Leave or OpCode.Count:
                v.AddRange([r.Rid, Utf8.GetString(r.Room)]);
                break;
            case OpCode.Publish:
                v.AddRange([r.Rid, Utf8.GetString(r.Room), r.Payload.ToArray()]);
                break;
            case OpCode.Update:
                v.AddRange([r.Rid, Utf8.GetString(r.Room), r.HasMeta ? r.Meta.ToArray() : null]);
                break;
            case OpCode.Presence:
                v.AddRange([r.Rid, Utf8.GetString(r.Room), r.HasLimit ? r.Limit : null]);
                break;
            case OpCode.Ping:
                v.Add(r.Rid);
                break;
            case OpCode.Refresh:
                v.AddRange([r.Rid, Utf8.GetString(r.Credential)]);
                break;
            case OpCode.Online:
                var users = new List<object?>();
                foreach (ReadOnlySequence<byte> user in r.EnumerateUsers()) users.Add(Utf8.GetString(user));
                v.AddRange([r.Rid, users]);
                break;
        }
        return v.Take(count).ToList(); // the optional fields the example leaves out
    }

    private static List<object?> FromServerMessage(ServerMessage message) => message switch
    {
        WelcomeMessage { Left: not null } m => [64L, m.Rid, m.User, m.Conn, m.Node, m.HeartbeatMs, m.TimeoutMs, m.MaxFrame, m.ResumeToken, m.ResumeWindowMs, m.Resumed, m.Features,
            m.Left.Cast<object?>().ToList()],
        WelcomeMessage { Features: > 0 } m => [64L, m.Rid, m.User, m.Conn, m.Node, m.HeartbeatMs, m.TimeoutMs, m.MaxFrame, m.ResumeToken, m.ResumeWindowMs, m.Resumed, m.Features],
        WelcomeMessage { ResumeToken.Length: > 0 } m => [64L, m.Rid, m.User, m.Conn, m.Node, m.HeartbeatMs, m.TimeoutMs, m.MaxFrame, m.ResumeToken, m.ResumeWindowMs, m.Resumed],
        WelcomeMessage m => [64L, m.Rid, m.User, m.Conn, m.Node, m.HeartbeatMs, m.TimeoutMs, m.MaxFrame],
        OkMessage m => [65L, m.Rid],
        ErrorMessage m => [66L, m.Rid, (long)m.Code, m.Text],
        JoinedMessage m => [67L, m.Rid, m.Room, m.Epoch, m.Offset, Members(m.Members), m.Recovered, m.Total],
        PresenceStateMessage m => [68L, m.Rid, m.Room, Members(m.Members), m.Total],
        PresenceDiffMessage m => [69L, m.Room, Members(m.Joins), Members(m.Leaves)],
        RoomMessage m => [70L, m.Room, m.FromUser, m.FromConn, m.Payload, m.Offset],
        CountStateMessage m => [71L, m.Rid, m.Room, m.Connections, m.Users],
        PongMessage m => [72L, m.Rid],
        GoAwayMessage m => [73L, (long)m.Code, m.Text, m.ReconnectMs],
        OnlineStateMessage m => [74L, m.Rid, m.Online.Cast<object?>().ToList()],
        RefreshedMessage m => [75L, m.Rid, m.Exp, m.Left.Cast<object?>().ToList()],
        _ => throw new InvalidOperationException($"no mapping for {message.Op}"),
    };

    private static List<object?> Members(IReadOnlyList<Member> members) =>
        members.Select(m => (object?)new List<object?> { m.User, m.Conn, m.Meta }).ToList();

    // --- our encoders, fed with the example's values ------------------------------------------------------

    private static void Encode(FrameBuffer output, List<object?> v)
    {
        long op = Int(v[0]);
        switch ((OpCode)op)
        {
            case OpCode.Hello:
                ClientFrames.Hello(output, Rid(v[1]), (string?)v[3], v.Count > 4 ? (string?)v[4] : null, (int)Int(v[2]), v.Count > 5 ? (string?)v[5] : null,
                    v.Count > 6 ? Rid(v[6]) : 0);
                break;
            case OpCode.Join:
                byte[]? meta = v.Count > 3 ? (byte[]?)v[3] : null;
                var since = v.Count > 4 ? (List<object?>?)v[4] : null;
                byte[]? will = v.Count > 5 ? (byte[]?)v[5] : null;
                ClientFrames.Join(output, Rid(v[1]), (string)v[2]!, meta, meta is not null, (string?)since?[0], since is null ? 0 : (ulong)Int(since[1]), will, will is not null);
                break;
            case OpCode.Leave: ClientFrames.Leave(output, Rid(v[1]), (string)v[2]!); break;
            case OpCode.Publish: ClientFrames.Publish(output, Rid(v[1]), (string)v[2]!, (byte[])v[3]!); break;
            case OpCode.Update: ClientFrames.Update(output, Rid(v[1]), (string)v[2]!, (byte[]?)v[3], v[3] is not null); break;
            case OpCode.Presence: ClientFrames.Presence(output, Rid(v[1]), (string)v[2]!, v.Count > 3 && v[3] is not null ? Rid(v[3]) : (uint?)null); break;
            case OpCode.Count: ClientFrames.Count(output, Rid(v[1]), (string)v[2]!); break;
            case OpCode.Ping: ClientFrames.Ping(output, Rid(v[1])); break;
            case OpCode.Bye: ClientFrames.Bye(output); break;
            case OpCode.Online: ClientFrames.Online(output, Rid(v[1]), ((List<object?>)v[2]!).Cast<string>().ToList()); break;
            case OpCode.Refresh: ClientFrames.Refresh(output, Rid(v[1]), (string)v[2]!); break;
            case OpCode.Refreshed:
            {
                var left = (List<object?>)v[3]!;
                MessagePackWriter w = ServerFrames.BeginRefreshed(output, Rid(v[1]), Int(v[2]), left.Count, out int start);
                foreach (object? room in left) w.WriteString((string)room!);
                ServerFrames.EndFrame(output, ref w, start);
                break;
            }
            case OpCode.Welcome:
                if (v.Count > 12) ServerFrames.Welcome(output, Rid(v[1]), (string)v[2]!, (string)v[3]!, (string)v[4]!, Int(v[5]), Int(v[6]), (int)Int(v[7]), (string)v[8]!, Int(v[9]), (bool)v[10]!, Rid(v[11]),
                    ((List<object?>)v[12]!).Cast<string>().ToList());
                else if (v.Count > 11) ServerFrames.Welcome(output, Rid(v[1]), (string)v[2]!, (string)v[3]!, (string)v[4]!, Int(v[5]), Int(v[6]), (int)Int(v[7]), (string)v[8]!, Int(v[9]), (bool)v[10]!, Rid(v[11]));
                else if (v.Count > 8) ServerFrames.Welcome(output, Rid(v[1]), (string)v[2]!, (string)v[3]!, (string)v[4]!, Int(v[5]), Int(v[6]), (int)Int(v[7]), (string)v[8]!, Int(v[9]), (bool)v[10]!);
                else ServerFrames.Welcome(output, Rid(v[1]), (string)v[2]!, (string)v[3]!, (string)v[4]!, Int(v[5]), Int(v[6]), (int)Int(v[7]));
                break;
            case OpCode.Ok: ServerFrames.Ok(output, Rid(v[1])); break;
            case OpCode.Pong: ServerFrames.Pong(output, Rid(v[1])); break;
            case OpCode.Error: ServerFrames.Error(output, Rid(v[1]), (ErrorCode)Int(v[2]), (string)v[3]!); break;
            case OpCode.GoAway: ServerFrames.GoAway(output, (ErrorCode)Int(v[1]), (string)v[2]!, Int(v[3])); break;
            case OpCode.Joined:
            {
                var members = (List<object?>)v[5]!;
                MessagePackWriter w = ServerFrames.BeginJoined(output, Rid(v[1]), (string)v[2]!, (string)v[3]!, (ulong)Int(v[4]), members.Count, out int start);
                foreach (object? member in members) WriteMember(ref w, member);
                ServerFrames.EndJoined(output, ref w, start, (bool)v[6]!, Int(v[7]));
                break;
            }
            case OpCode.PresenceState:
            {
                var members = (List<object?>)v[3]!;
                MessagePackWriter w = ServerFrames.BeginPresenceState(output, Rid(v[1]), (string)v[2]!, members.Count, out int start);
                foreach (object? member in members) WriteMember(ref w, member);
                ServerFrames.EndPresenceState(output, ref w, start, Int(v[4]));
                break;
            }
            case OpCode.PresenceDiff:
            {
                var joins = (List<object?>)v[2]!;
                var leaves = (List<object?>)v[3]!;
                MessagePackWriter w = ServerFrames.BeginPresenceDiff(output, (string)v[1]!, joins.Count, out int start);
                foreach (object? member in joins) WriteMember(ref w, member);
                ServerFrames.WriteDiffLeavesHeader(ref w, leaves.Count);
                foreach (object? member in leaves) WriteMember(ref w, member);
                ServerFrames.EndFrame(output, ref w, start);
                break;
            }
            case OpCode.Message:
                ServerFrames.Message(output, (string)v[1]!, (string)v[2]!, (string)v[3]!, (byte[])v[4]!, (ulong)Int(v[5]));
                break;
            case OpCode.CountState: ServerFrames.CountState(output, Rid(v[1]), (string)v[2]!, Int(v[3]), Int(v[4])); break;
            case OpCode.OnlineState:
            {
                var online = (List<object?>)v[2]!;
                MessagePackWriter w = ServerFrames.BeginOnlineState(output, Rid(v[1]), online.Count, out int start);
                foreach (object? user in online) w.WriteString((string)user!);
                ServerFrames.EndFrame(output, ref w, start);
                break;
            }
            default: throw new InvalidOperationException($"no encoder for op {op}");
        }
    }

    private static void WriteMember(ref MessagePackWriter w, object? member)
    {
        var m = (List<object?>)member!;
        var meta = (byte[]?)m[2];
        ServerFrames.WriteMember(ref w, (string)m[0]!, (string)m[1]!, meta, meta is not null);
    }

    private static long Int(object? value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private static uint Rid(object? value) => checked((uint)Int(value));

    private static string OpName(long op) => op switch
    {
        (long)OpCode.PresenceState => "PRESENCE_STATE",
        (long)OpCode.PresenceDiff => "PRESENCE_DIFF",
        (long)OpCode.CountState => "COUNT_STATE",
        (long)OpCode.GoAway => "GOAWAY",
        (long)OpCode.OnlineState => "ONLINE_STATE",
        _ => ((OpCode)op).ToString().ToUpperInvariant(),
    };

    // --- comparing values: integers by value whatever their .NET type, bins by content --------------------

    private static void AssertSame(object? expected, object? actual, string where)
    {
        switch (expected)
        {
            case null: Assert.True(actual is null, $"{where}: expected nil, got {actual}"); break;
            case List<object?> list:
                var other = Assert.IsType<List<object?>>(actual);
                Assert.True(list.Count == other.Count, $"{where}: expected {list.Count} elements, got {other.Count}");
                for (int i = 0; i < list.Count; i++) AssertSame(list[i], other[i], $"{where}[{i}]");
                break;
            case byte[] bytes: Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(Assert.IsType<byte[]>(actual))); break;
            case long number:
                Assert.True(actual is long or int or uint or ulong, $"{where}: expected an integer, got {actual?.GetType().Name}");
                Assert.Equal((decimal)number, Convert.ToDecimal(actual, CultureInfo.InvariantCulture));
                break;
            default: Assert.Equal(expected, actual); break;
        }
    }

    private static string DocPath()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PresenceD.sln"))) return Path.Combine(dir.FullName, "docs", "protocol.md");
        }
        throw new InvalidOperationException($"no PresenceD.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>
    /// One ```hex block: the first line is "NAME value", then lines of "hex bytes, two or more spaces, annotation",
    /// the first of them the length prefix.
    /// </summary>
    private sealed record Example(string Name, List<object?> Value, IReadOnlyList<(byte[] Bytes, string Annotation)> Lines)
    {
        public byte[] Frame => Lines.SelectMany(l => l.Bytes).ToArray();

        public byte[] Body => Frame[4..];

        public static IReadOnlyList<Example> ParseAll(string markdown)
        {
            var examples = new List<Example>();
            foreach (Match block in Regex.Matches(markdown, @"^```hex\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline))
            {
                string[] lines = block.Groups[1].Value.TrimEnd('\n').Split('\n');
                int space = lines[0].IndexOf(' ', StringComparison.Ordinal);
                string name = lines[0][..space];
                // A second example of the same op (the resume HELLO and WELCOME) is named NAME#2.
                int same = examples.Count(e => e.Name.Split('#')[0] == name);
                if (same > 0) name += "#" + (same + 1);
                var parser = new ValueParser(lines[0][(space + 1)..]);
                var value = (List<object?>)parser.ParseToEnd()!;
                examples.Add(new Example(name, value, lines.Skip(1).Select(ParseLine).ToList()));
            }
            Assert.NotEmpty(examples);
            return examples;
        }

        private static (byte[], string) ParseLine(string line)
        {
            Match m = Regex.Match(line, @"^((?:[0-9a-f]{2} )*[0-9a-f]{2}) {2,}(\S.*)$");
            Assert.True(m.Success, $"not a 'hex bytes  annotation' line: '{line}'");
            return (Convert.FromHexString(m.Groups[1].Value.Replace(" ", "", StringComparison.Ordinal)), m.Groups[2].Value.Trim());
        }
    }

    /// <summary>Values as the document writes them: 12, -3, "text", b"bytes", nil, true, false, [a, b].</summary>
    private sealed class ValueParser(string text)
    {
        private readonly string _text = text;
        private int _at;

        public object? ParseToEnd()
        {
            object? value = Parse();
            SkipSpaces();
            if (_at != _text.Length) throw new FormatException($"text after the value: '{_text[_at..]}'");
            return value;
        }

        private object? Parse()
        {
            SkipSpaces();
            char c = _text[_at];
            if (c == '[')
            {
                _at++;
                var items = new List<object?>();
                SkipSpaces();
                if (_text[_at] == ']')
                {
                    _at++;
                    return items;
                }
                while (true)
                {
                    items.Add(Parse());
                    SkipSpaces();
                    char next = _text[_at++];
                    if (next == ']') return items;
                    if (next != ',') throw new FormatException($"expected ',' or ']' at {_at - 1} in '{_text}'");
                }
            }
            if (c == '"') return Quoted();
            if (c == 'b' && _text[_at + 1] == '"')
            {
                _at++;
                return Encoding.ASCII.GetBytes(Quoted());
            }
            foreach ((string word, object? value) in new (string, object?)[] { ("nil", null), ("true", true), ("false", false) })
            {
                if (string.CompareOrdinal(_text, _at, word, 0, word.Length) == 0)
                {
                    _at += word.Length;
                    return value;
                }
            }
            int start = _at;
            if (c == '-') _at++;
            while (_at < _text.Length && char.IsAsciiDigit(_text[_at])) _at++;
            return long.Parse(_text.AsSpan(start, _at - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }

        private string Quoted()
        {
            int end = _text.IndexOf('"', _at + 1);
            string value = _text[(_at + 1)..end];
            _at = end + 1;
            return value;
        }

        private void SkipSpaces()
        {
            while (_at < _text.Length && _text[_at] == ' ') _at++;
        }
    }
}
