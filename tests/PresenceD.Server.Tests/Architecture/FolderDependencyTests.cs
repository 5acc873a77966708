using System.Text.RegularExpressions;

namespace PresenceD.Server.Tests.Architecture;

/// <summary>
/// The server's folders depend on each other one way only, in the order docs/architecture.md writes down: this
/// reads that line and every `using` and `PresenceD.Server.*` name in src/PresenceD.Server, so the doc and the
/// code cannot drift apart.
/// </summary>
public sealed partial class FolderDependencyTests
{
    [Fact]
    public void Every_folder_uses_only_the_folders_after_it_in_the_documented_order()
    {
        string root = RepositoryRoot();
        List<string> order = DocumentedOrder(Path.Combine(root, "docs", "architecture.md"));
        string source = Path.Combine(root, "src", "PresenceD.Server");
        var folders = Directory.GetDirectories(source).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).ToHashSet();
        Assert.True(folders.SetEquals(order), $"docs/architecture.md orders [{string.Join(", ", order)}] but the folders are [{string.Join(", ", folders.Order())}]");

        var violations = new List<string>();
        foreach (string file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("bin", StringComparison.Ordinal) || relative.StartsWith("obj", StringComparison.Ordinal)) continue;
            string folder = relative.Split(Path.DirectorySeparatorChar)[0];
            if (!folders.Contains(folder)) continue; // a file at the project root belongs to no layer
            int rank = order.IndexOf(folder);
            foreach (Match reference in ServerNamespace().Matches(File.ReadAllText(file)))
            {
                string used = reference.Groups[1].Value;
                if (used == folder || !folders.Contains(used)) continue;
                if (order.IndexOf(used) < rank) violations.Add($"{relative} uses {used}, which comes before {folder}");
            }
        }
        Assert.True(violations.Count == 0, "folder dependencies against docs/architecture.md:\n" + string.Join("\n", violations.Distinct()));
    }

    private static List<string> DocumentedOrder(string path)
    {
        string[] lines = File.ReadAllLines(path);
        int marker = Array.FindIndex(lines, l => l.Contains("<!-- folder-order -->", StringComparison.Ordinal));
        Assert.True(marker >= 0 && marker + 1 < lines.Length, "docs/architecture.md has no <!-- folder-order --> line");
        return lines[marker + 1].Trim('`', ' ').Split('>', StringSplitOptions.TrimEntries).ToList();
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PresenceD.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("no PresenceD.sln above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"PresenceD\.Server\.([A-Za-z]+)")]
    private static partial Regex ServerNamespace();
}
