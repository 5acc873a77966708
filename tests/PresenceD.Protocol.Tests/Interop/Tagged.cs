using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace PresenceD.Protocol.Tests.Interop;

/// <summary>Builders for the tagged JSON values of tests/interop/README.md (each call returns a fresh node).</summary>
internal static class Tagged
{
    public static JsonObject Int(long value) => new() { ["t"] = "int", ["v"] = value.ToString(CultureInfo.InvariantCulture) };
    public static JsonObject UInt(ulong value) => new() { ["t"] = "int", ["v"] = value.ToString(CultureInfo.InvariantCulture) };
    public static JsonObject Str(string value) => new() { ["t"] = "str", ["v"] = value };
    public static JsonObject Bin(byte[] value) => new() { ["t"] = "bin", ["v"] = Convert.ToHexStringLower(value) };
    public static JsonObject Nil() => new() { ["t"] = "nil" };
    public static JsonObject Bool(bool value) => new() { ["t"] = "bool", ["v"] = value };
    public static JsonObject Arr(params JsonNode[] items) => new() { ["t"] = "arr", ["v"] = new JsonArray(items) };
    public static JsonObject Map(params (string Key, JsonNode Value)[] pairs) =>
        new() { ["t"] = "map", ["v"] = new JsonArray(pairs.Select(p => (JsonNode)new JsonArray(Str(p.Key), p.Value)).ToArray()) };
    public static JsonObject Member(string user, string conn, byte[]? meta) => Arr(Str(user), Str(conn), meta is null ? Nil() : Bin(meta));
    public static JsonObject Op(OpCode op) => Int((long)op);

    public static string Utf8Hex(string value) => Convert.ToHexString(Encoding.UTF8.GetBytes(value));
}
