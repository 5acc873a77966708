using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace PresenceD.Protocol.Tests.Interop;

/// <summary>
/// One `node tests/interop/msgpack.mjs` process (the @msgpack/msgpack oracle) for a test class, spoken to in JSON lines.
/// Missing node or node_modules is a failure with the fix in the message, never a skip: test.sh installs both.
/// </summary>
public sealed class NodeMsgpack : IDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _node;
    private readonly object _gate = new();

    public NodeMsgpack()
    {
        string interop = Path.Combine(FindRepoRoot(), "tests", "interop");
        string script = Path.Combine(interop, "msgpack.mjs");
        if (!File.Exists(script)) throw new InvalidOperationException($"{script} is missing");
        if (!Directory.Exists(Path.Combine(interop, "node_modules", "@msgpack", "msgpack")))
        {
            throw new InvalidOperationException($"{interop}/node_modules/@msgpack/msgpack is missing: run ./test.sh, or `npm ci` in {interop}");
        }
        var start = new ProcessStartInfo("node", [script])
        {
            WorkingDirectory = interop,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            _node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("`node` is not installed or not on PATH: run ./test.sh, which installs it", e);
        }
        _node.StandardInput.AutoFlush = true;
        _ = _node.StandardError.ReadToEndAsync();
        string hello = Encode(JsonNode.Parse("""{"t":"int","v":"1"}""")!) is [0x01] ? "ok" : "unexpected";
        if (hello != "ok") throw new InvalidOperationException("msgpack.mjs answered a first request wrongly");
    }

    /// <summary>The bytes @msgpack/msgpack writes for a tagged value.</summary>
    public byte[] Encode(JsonNode tagged)
    {
        JsonNode reply = Request(new JsonObject { ["op"] = "encode", ["value"] = tagged.DeepClone() });
        if (reply["hex"] is JsonNode hex) return Convert.FromHexString(hex.GetValue<string>());
        throw new InvalidOperationException($"node could not encode {tagged.ToJsonString()}: {reply.ToJsonString()}");
    }

    /// <summary>The tagged value @msgpack/msgpack reads from bytes (it must read all of them).</summary>
    public JsonNode Decode(byte[] bytes)
    {
        JsonNode reply = Request(new JsonObject { ["op"] = "decode", ["hex"] = Convert.ToHexStringLower(bytes) });
        if (reply["value"] is JsonNode value) return value;
        throw new InvalidOperationException($"node could not decode {Convert.ToHexStringLower(bytes)}: {reply.ToJsonString()}");
    }

    public void Dispose()
    {
        try
        {
            _node.StandardInput.Close();
            if (!_node.WaitForExit(10_000)) _node.Kill();
        }
        finally
        {
            _node.Dispose();
        }
    }

    private JsonNode Request(JsonObject request)
    {
        lock (_gate)
        {
            if (_node.HasExited) throw new InvalidOperationException($"node exited with code {_node.ExitCode}");
            _node.StandardInput.WriteLine(request.ToJsonString());
            string? line = _node.StandardOutput.ReadLineAsync().WaitAsync(ReplyTimeout).GetAwaiter().GetResult();
            return JsonNode.Parse(line ?? throw new InvalidOperationException("node closed its output")) ?? throw new InvalidOperationException("node answered null");
        }
    }

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PresenceD.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no PresenceD.sln above {AppContext.BaseDirectory}");
    }
}
