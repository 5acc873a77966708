namespace PresenceD.Clients.Tests;

/// <summary>
/// The C client's interop peer (src/clients/c/tests/interop_peer.c), compiled once per test run with the plain
/// `cc` line of the C client's README (library sources compiled in).
/// </summary>
internal static class CPeer
{
    private static readonly Lazy<Task<string>> Built = new(BuildOnceAsync);

    public static Task<string> BuildAsync() => Built.Value;

    private static async Task<string> BuildOnceAsync()
    {
        string c = RepoPaths.CClient, output = Path.Combine(Directory.CreateTempSubdirectory("pd-c-peer-").FullName, "interop_peer");
        string compiler = Environment.GetEnvironmentVariable("CC") is { Length: > 0 } cc ? cc : "cc";
        var args = new List<string> { "-std=c99", "-O1", "-I", Path.Combine(c, "include"), "-I", Path.Combine(c, "src"), "-I", Path.Combine(c, "tests") };
        args.AddRange(Directory.GetFiles(Path.Combine(c, "src"), "*.c").Order(StringComparer.Ordinal));
        args.AddRange(new[] { "interop_peer.c", "event_text.c", "testkit.c", "daemon.c" }.Select(f => Path.Combine(c, "tests", f)));
        args.AddRange(["-o", output]);
        (int code, string log) result;
        try
        {
            result = await UnityPackageTests.RunAsync(compiler, args, TimeSpan.FromMinutes(2));
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"no C compiler '{compiler}' on PATH (apt-get install gcc): {e.Message}", e);
        }
        if (result.code != 0) throw new InvalidOperationException($"{compiler} failed to build the C interop peer:\n{result.log}");
        return output;
    }
}
