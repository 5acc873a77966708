using System.Globalization;

namespace PresenceD.Load.Measurement;

/// <summary>Reads a process's resident memory and CPU seconds from /proc (Linux); zeros elsewhere or when it is gone.</summary>
internal sealed class ProcessSampler(int pid)
{
    // USER_HZ is 100 on every Linux the daemon targets; /proc/PID/stat counts CPU time in those ticks.
    private const double TicksPerSecond = 100.0;

    public int Pid { get; } = pid;

    public double CpuSeconds()
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{Pid}/stat");
            // Fields after the parenthesised command name, which may itself contain spaces.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public double RssMegabytes() => RssKilobytes() / 1024.0;

    public long RssKilobytes()
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{Pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                return long.Parse(line.AsSpan(6).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }
}
