using System.Globalization;
using System.Text;
using System.Text.Json;
using PresenceD.Client;

namespace PresenceD.Cli;

/// <summary>Writes results readably for people, or as one JSON object per line (--json) for scripts. Thread-safe.</summary>
internal sealed class CliOutput(TextWriter output, TextWriter error, bool json)
{
    private readonly object _lock = new();

    public bool Json { get; } = json;

    public void Welcome(WelcomeMessage w) => Emit(
        $"connected as {w.User} (conn {w.Conn}) to node {w.Node}; heartbeat {w.HeartbeatMs} ms, timeout {w.TimeoutMs} ms, max_frame {w.MaxFrame}",
        j =>
        {
            j.WriteString("type", "welcome");
            j.WriteString("user", w.User);
            j.WriteString("conn", w.Conn);
            j.WriteString("node", w.Node);
            j.WriteNumber("heartbeat_ms", w.HeartbeatMs);
            j.WriteNumber("timeout_ms", w.TimeoutMs);
            j.WriteNumber("max_frame", w.MaxFrame);
        });

    public void Joined(JoinedMessage m) => Emit(
        $"joined {m.Room}: {m.Total} member(s), epoch \"{m.Epoch}\", offset {m.Offset}{MemberLines(m.Members)}",
        j =>
        {
            j.WriteString("type", "joined");
            j.WriteString("room", m.Room);
            j.WriteString("epoch", m.Epoch);
            j.WriteNumber("offset", m.Offset);
            j.WriteNumber("total", m.Total);
            j.WriteBoolean("recovered", m.Recovered);
            WriteMembers(j, "members", m.Members);
        });

    public void Presence(PresenceStateMessage m) => Emit(
        $"{m.Room}: {m.Total} member(s){(m.Members.Count < m.Total ? $", {m.Members.Count} listed" : "")}{MemberLines(m.Members)}",
        j =>
        {
            j.WriteString("type", "presence");
            j.WriteString("room", m.Room);
            j.WriteNumber("total", m.Total);
            WriteMembers(j, "members", m.Members);
        });

    public void Count(CountStateMessage m) => Emit(
        $"{m.Room}: {m.Connections} connection(s), {m.Users} user(s)",
        j =>
        {
            j.WriteString("type", "count");
            j.WriteString("room", m.Room);
            j.WriteNumber("connections", m.Connections);
            j.WriteNumber("users", m.Users);
        });

    public void Online(IReadOnlyList<string> asked, IReadOnlyList<string> online) => Emit(
        string.Join(Environment.NewLine, asked.Select(u => $"{u}\t{(online.Contains(u) ? "online" : "offline")}")),
        j =>
        {
            j.WriteString("type", "online");
            j.WriteStartArray("online");
            foreach (string user in online) j.WriteStringValue(user);
            j.WriteEndArray();
            j.WriteStartArray("offline");
            foreach (string user in asked.Where(u => !online.Contains(u))) j.WriteStringValue(user);
            j.WriteEndArray();
        });

    public void Published(string room, int count) => Emit(
        $"published {count} message(s) to {room}",
        j =>
        {
            j.WriteString("type", "published");
            j.WriteString("room", room);
            j.WriteNumber("count", count);
        });

    public void Message(RoomMessageEventArgs m) => Emit(
        $"[{m.Room}] {m.FromUser} ({m.FromConn}){(m.Offset > 0 ? $" #{m.Offset}" : "")}: {PayloadText.Describe(m.Payload)}",
        j =>
        {
            j.WriteString("type", "message");
            j.WriteString("room", m.Room);
            j.WriteString("from_user", m.FromUser);
            j.WriteString("from_conn", m.FromConn);
            j.WriteNumber("offset", m.Offset);
            if (PayloadText.TryText(m.Payload, out string? text)) j.WriteString("payload", text);
            else j.WriteNull("payload");
            j.WriteBase64String("payload_base64", m.Payload);
        });

    public void Diff(PresenceChangedEventArgs d)
    {
        if (d.IsSnapshot) return;
        var text = new StringBuilder();
        foreach (Member m in d.Joined) text.Append(CultureInfo.InvariantCulture, $"[{d.Room}] + {m.User} ({m.Conn}){Meta(m)}").AppendLine();
        foreach (Member m in d.Updated) text.Append(CultureInfo.InvariantCulture, $"[{d.Room}] ~ {m.User} ({m.Conn}){Meta(m)}").AppendLine();
        foreach (Member m in d.Left) text.Append(CultureInfo.InvariantCulture, $"[{d.Room}] - {m.User} ({m.Conn})").AppendLine();
        Emit(text.ToString().TrimEnd(), j =>
        {
            j.WriteString("type", "presence_diff");
            j.WriteString("room", d.Room);
            WriteMembers(j, "joins", d.Joined);
            WriteMembers(j, "updates", d.Updated);
            WriteMembers(j, "leaves", d.Left);
            j.WriteNumber("total", d.Total);
        });
    }

    public void Notice(string text) => Emit(text, j =>
    {
        j.WriteString("type", "notice");
        j.WriteString("text", text);
    });

    /// <summary>Errors always go to stderr as text, so --json output stays parseable.</summary>
    public void Error(string text)
    {
        lock (_lock) error.WriteLine("presence-cli: " + text);
    }

    private void Emit(string human, Action<Utf8JsonWriter> write)
    {
        string line;
        if (Json)
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                write(json);
                json.WriteEndObject();
            }
            line = Encoding.UTF8.GetString(stream.ToArray());
        }
        else
        {
            line = human;
        }
        lock (_lock)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private static string MemberLines(IReadOnlyList<Member> members) =>
        string.Concat(members.Select(m => $"{Environment.NewLine}  {m.User} ({m.Conn}){Meta(m)}"));

    private static string Meta(Member m) => m.Meta is null ? "" : " meta=" + PayloadText.Describe(m.Meta);

    private static void WriteMembers(Utf8JsonWriter j, string name, IReadOnlyList<Member> members)
    {
        j.WriteStartArray(name);
        foreach (Member m in members)
        {
            j.WriteStartObject();
            j.WriteString("user", m.User);
            j.WriteString("conn", m.Conn);
            if (m.Meta is null) j.WriteNull("meta");
            else if (PayloadText.TryText(m.Meta, out string? text)) j.WriteString("meta", text);
            else j.WriteBase64String("meta_base64", m.Meta);
            j.WriteEndObject();
        }
        j.WriteEndArray();
    }
}
