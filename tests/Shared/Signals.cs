using System.Diagnostics;
using System.Globalization;

namespace PresenceD.Tests.Shared;

/// <summary>POSIX signals to child processes, by name (KILL, TERM, HUP, STOP, CONT), through kill(1).</summary>
internal static class Signals
{
    public static void Send(int pid, string name)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill", ["-" + name, pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{name} {pid} failed (exit {kill.ExitCode})");
    }
}
