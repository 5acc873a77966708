namespace PresenceD.Protocol.Tests.TestSupport;

/// <summary>
/// Every op's body as a list of fields, each with a valid encoding and a set of wrongly typed ones, so tests
/// can substitute one field at a time. Values are hex.
/// </summary>
internal static class FieldTemplates
{
    public sealed record Field(string Valid, string[] Wrong);

    public sealed record Template(string Name, int Required, Field[] Fields)
    {
        public byte[] Body(int count, int replaced = -1, string? replacement = null)
        {
            string hex = count <= 15 ? (0x90 | count).ToString("x2") : "dc" + count.ToString("x4");
            for (int i = 0; i < count; i++) hex += i == replaced ? replacement : Fields[i].Valid;
            return Convert.FromHexString(hex);
        }
    }

    private static Field Op(int op) => new(op.ToString("x2"), []);

    private static readonly Field Rid = new("05", ["a161", "c0", "c3", "c401ff", "90", "80", "cb3ff0000000000000", "ff", "d0ff", "cf0000000100000000", "d40501", "c1"]);
    private static readonly Field Int = new("cd1388", ["a161", "c0", "c2", "c400", "90", "ca3f800000", "cfffffffffffffffff", "c1"]);
    private static readonly Field UInt64 = new("2a", ["a161", "c0", "ff", "c3", "c400", "91", "d3ffffffffffffffff"]);
    private static readonly Field Str = new("a46e616d65", ["01", "c0", "c400", "90", "c3", "80", "ca3f800000", "d40501", "c1"]);
    private static readonly Field OptStr = new("a46e616d65", ["01", "c400", "90", "c3", "80"]);
    private static readonly Field Bin = new("c403010203", ["a161", "01", "c0", "90", "c3", "80"]);
    private static readonly Field OptBin = new("c403010203", ["a161", "01", "90", "c2", "80"]);
    private static readonly Field Since = new("92a26570cd012c", ["a161", "01", "c400", "90", "91a165", "92a165a161", "920101", "92a165ff", "92a165c0", "c3", "80"]);
    private static readonly Field OptUInt = new("cd03e8", ["a161", "c400", "ff", "c3", "cf0000000100000000", "90"]);
    private static readonly Field Users = new("92a161a162", ["a161", "c0", "01", "9101", "91c0", "91c400", "80", "92a161"]);
    private static readonly Field Bool = new("c3", ["01", "c0", "a161", "90"]);
    private static readonly Field Members = new("9293a161a162c093a163a164c401ff",
        ["a161", "c0", "01", "9101", "91c0", "9192a161a162", "9193a16101c0", "9193a161a162a163", "9193a161a16201", "9193c0a162c0", "92"]);

    public static IReadOnlyList<Template> Client { get; } =
    [
        new("HELLO", 4, [Op(1), Rid, Int, OptStr, OptStr]),
        new("JOIN", 3, [Op(2), Rid, Str, OptBin, Since, OptBin]),
        new("LEAVE", 3, [Op(3), Rid, Str]),
        new("PUBLISH", 4, [Op(4), Rid, Str, Bin]),
        new("UPDATE", 3, [Op(5), Rid, Str, OptBin]),
        new("PRESENCE", 3, [Op(6), Rid, Str, OptUInt]),
        new("COUNT", 3, [Op(7), Rid, Str]),
        new("PING", 2, [Op(8), Rid]),
        new("BYE", 1, [Op(9)]),
        new("ONLINE", 3, [Op(10), Rid, Users]),
    ];

    public static IReadOnlyList<Template> Server { get; } =
    [
        new("WELCOME", 8, [Op(64), Rid, Str, Str, Str, Int, Int, Int]),
        new("OK", 2, [Op(65), Rid]),
        new("ERROR", 4, [Op(66), Rid, Int with { Valid = "04", Wrong = [.. Int.Wrong, "cd012c", "ff"] }, Str]),
        new("JOINED", 8, [Op(67), Rid, Str, Str, UInt64, Members, Bool, Int]),
        new("PRESENCE_STATE", 5, [Op(68), Rid, Str, Members, Int]),
        new("PRESENCE_DIFF", 4, [Op(69), Str, Members, Members]),
        new("MESSAGE", 6, [Op(70), Str, Str, Str, Bin, UInt64]),
        new("COUNT_STATE", 5, [Op(71), Rid, Str, Int, Int]),
        new("PONG", 2, [Op(72), Rid]),
        new("GOAWAY", 4, [Op(73), Int with { Valid = "0c", Wrong = [.. Int.Wrong, "cd012c", "ff"] }, Str, Int]),
        new("ONLINE_STATE", 3, [Op(74), Rid, Users]),
    ];
}
