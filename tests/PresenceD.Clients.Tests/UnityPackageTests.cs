using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using PresenceD.Client;

namespace PresenceD.Clients.Tests;

/// <summary>
/// The Unity package (src/clients/unity/com.presenced.client, installed by git URL): its manifest and assembly
/// definitions, a .meta beside every asset, DLLs that need nothing beyond .NET Standard 2.1 and match the client's
/// current public API, and scripts that compile as Unity 2021.3 compiles them (C# 9).
/// </summary>
public sealed partial class UnityPackageTests
{
    private static readonly string Package = RepoPaths.UnityPackage;
    private static readonly string Plugins = Path.Combine(Package, "Runtime", "Plugins");
    private static readonly string[] ShippedDlls = ["PresenceD.Client.dll", "PresenceD.Protocol.dll"];

    [Fact]
    public void PackageJsonHasWhatThePackageManagerReads()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Package, "package.json")));
        JsonElement root = doc.RootElement;
        string name = root.GetProperty("name").GetString()!;
        Assert.Matches(PackageName(), name);
        Assert.Equal(Path.GetFileName(Package), name);
        Assert.Matches(SemVer(), root.GetProperty("version").GetString()!);
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("displayName").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("description").GetString()));
        Assert.Equal("2021.3", root.GetProperty("unity").GetString());
        Assert.Equal(JsonValueKind.Object, root.GetProperty("author").ValueKind);
        JsonElement[] samples = root.GetProperty("samples").EnumerateArray().ToArray();
        Assert.NotEmpty(samples);
        foreach (JsonElement sample in samples)
        {
            string path = sample.GetProperty("path").GetString()!;
            Assert.StartsWith("Samples~/", path, StringComparison.Ordinal);
            Assert.True(Directory.Exists(Path.Combine(Package, path)), $"sample folder {path} is missing");
            Assert.False(string.IsNullOrWhiteSpace(sample.GetProperty("displayName").GetString()));
        }
    }

    [Fact]
    public void AssemblyDefinitionsReferenceTheShippedDlls()
    {
        string[] asmdefs = Directory.GetFiles(Package, "*.asmdef", SearchOption.AllDirectories);
        Assert.Contains(asmdefs, p => p.EndsWith(Path.Combine("Runtime", "PresenceD.Unity.asmdef"), StringComparison.Ordinal));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string path in asmdefs)
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = doc.RootElement;
            string name = root.GetProperty("name").GetString()!;
            Assert.True(names.Add(name), $"two assembly definitions are named {name}");
            Assert.Equal(name, Path.GetFileNameWithoutExtension(path));
            Assert.False(root.GetProperty("allowUnsafeCode").GetBoolean());
            Assert.True(root.GetProperty("overrideReferences").GetBoolean());
            string[] precompiled = root.GetProperty("precompiledReferences").EnumerateArray().Select(e => e.GetString()!).ToArray();
            Assert.Equal(ShippedDlls.OrderBy(d => d), precompiled.OrderBy(d => d));
            foreach (string dll in precompiled) Assert.True(File.Exists(Path.Combine(Plugins, dll)), $"{path} references {dll}, which is not shipped");
            foreach (JsonElement reference in root.GetProperty("references").EnumerateArray())
                Assert.Contains(reference.GetString()!, names.Concat(AsmdefNames(asmdefs)));
        }
    }

    [Fact]
    public void EveryAssetHasAMetaFileWithItsOwnGuid()
    {
        var guids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFileSystemEntries(Package, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(Package, path);
            // Unity ignores folders ending in ~ (Samples~ is copied into Assets on import, which writes its own metas).
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part.EndsWith('~'))) continue;
            if (path.EndsWith(".meta", StringComparison.Ordinal))
            {
                string asset = path[..^".meta".Length];
                Assert.True(File.Exists(asset) || Directory.Exists(asset), $"{relative} has no asset");
                Match guid = Regex.Match(File.ReadAllText(path), @"^guid: ([0-9a-f]{32})$", RegexOptions.Multiline);
                Assert.True(guid.Success, $"{relative} has no guid");
                Assert.False(guids.TryGetValue(guid.Groups[1].Value, out string? other), $"{relative} and {other} share a guid");
                guids[guid.Groups[1].Value] = relative;
                continue;
            }
            Assert.True(File.Exists(path + ".meta"), $"{relative} has no .meta file (run src/clients/unity/build-package.sh)");
        }
        Assert.Contains("PluginImporter", File.ReadAllText(Path.Combine(Plugins, "PresenceD.Client.dll.meta")), StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedDllsNeedNothingBeyondNetStandard21()
    {
        foreach (string dll in ShippedDlls)
        {
            AssemblyFacts facts = AssemblyFacts.Read(Path.Combine(Plugins, dll));
            Assert.Equal(".NETStandard,Version=v2.1", facts.TargetFramework);
            foreach ((string name, Version version) in facts.References)
            {
                // Unity 2021.3 provides the .NET Standard 2.1 API; anything else (System.Threading.Channels,
                // System.IO.Pipelines, ...) would have to be shipped in the package.
                Assert.True(name == "netstandard" || ShippedDlls.Contains(name + ".dll"), $"{dll} references {name} {version}");
                if (name == "netstandard") Assert.Equal(new Version(2, 1, 0, 0), version);
            }
            Assert.DoesNotContain(facts.ReferencedTypes, t => t.Contains("System.Threading.Channels", StringComparison.Ordinal));
            Assert.DoesNotContain(facts.ReferencedTypes, t => t.Contains("System.Reflection.Emit", StringComparison.Ordinal)); // not under IL2CPP
        }
    }

    [Fact]
    public void ShippedDllsHaveTheClientsCurrentPublicApi()
    {
        // The package ships a build of src/PresenceD.Client; a public API change there needs build-package.sh.
        string fresh = typeof(PresenceClient).Assembly.Location;
        string freshProtocol = typeof(PresenceD.Protocol.OpCode).Assembly.Location;
        foreach ((string shipped, string built) in new[] { ("PresenceD.Client.dll", fresh), ("PresenceD.Protocol.dll", freshProtocol) })
        {
            SortedSet<string> inPackage = AssemblyFacts.Read(Path.Combine(Plugins, shipped)).PublicApi;
            SortedSet<string> current = AssemblyFacts.Read(built).PublicApi;
            Assert.Contains(current, api => api.EndsWith("::DispatchEvents/0", StringComparison.Ordinal) || api.EndsWith("OpCode", StringComparison.Ordinal));
            string[] missing = current.Except(inPackage).ToArray(), extra = inPackage.Except(current).ToArray();
            Assert.True(missing.Length == 0 && extra.Length == 0,
                $"{shipped} is stale (run src/clients/unity/build-package.sh and commit): missing {string.Join(", ", missing.Take(10))}; " +
                $"no longer in the client {string.Join(", ", extra.Take(10))}");
        }
    }

    [Fact]
    public void SampleDispatchesEventsOnTheMainThread()
    {
        string sample = File.ReadAllText(Path.Combine(Package, "Samples~", "PresenceChat", "PresenceChatSample.cs"));
        Assert.Contains("EventDispatch = EventDispatchMode.Manual", sample, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"void Update\(\)\s*\{[^}]*DispatchEvents\(\)", RegexOptions.Singleline), sample);
    }

    [Fact]
    public async Task PackageScriptsCompileAsUnity2021Would()
    {
        // C# 9, netstandard2.1, the shipped DLLs and a stub of the UnityEngine types the scripts use.
        string project = Path.Combine(RepoPaths.Root, "src", "clients", "unity", "PackageCheck", "PackageCheck.csproj");
        string output = Directory.CreateTempSubdirectory("unity-package-check-").FullName;
        try
        {
            (int code, string log) = await RunAsync("dotnet", ["build", project, "-c", "Release", "-nologo", "-v", "quiet", "-o", output,
                "-p:UseSharedCompilation=false"], TimeSpan.FromMinutes(4));
            Assert.True(code == 0, "the package's scripts do not compile:\n" + log);
            AssemblyFacts facts = AssemblyFacts.Read(Path.Combine(output, "PresenceD.Unity.PackageCheck.dll"));
            Assert.Equal(".NETStandard,Version=v2.1", facts.TargetFramework);
            Assert.All(facts.References, r => Assert.Contains(r.Name, new[] { "netstandard", "PresenceD.Client", "PresenceD.Protocol" }));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static IEnumerable<string> AsmdefNames(IEnumerable<string> paths) => paths.Select(Path.GetFileNameWithoutExtension)!;

    internal static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + file);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{file} timed out after {timeout}\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"^com\.[a-z0-9-]+\.[a-z0-9.-]+$")]
    private static partial Regex PackageName();

    [GeneratedRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemVer();
}
