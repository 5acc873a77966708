using System.Diagnostics;

namespace PresenceD.Tests.Shared;

/// <summary>Runs a tool to completion with a time bound and returns its exit code and output.</summary>
internal static class ChildProcess
{
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("PRESENCED_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeout}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The full path of a program found on PATH or in the sbin directories, or null.</summary>
    public static string? Find(string name)
    {
        string path = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/local/sbin:/usr/sbin:/sbin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }
}
