using PresenceD.Tests.Shared;

namespace PresenceD.Install.Tests.Support;

/// <summary>
/// A fact that installs a package into this machine: it needs root and dpkg, and is skipped, saying so, without
/// them. It is also skipped when a presenced package is already on the machine, which it would replace and purge.
/// </summary>
internal sealed class RequiresRootAndDpkgFactAttribute : FactAttribute
{
    public RequiresRootAndDpkgFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "needs root: it installs and purges the presenced .deb (run the tests as root, e.g. in a container)";
        }
        else if (ChildProcess.Find("dpkg") is null || ChildProcess.Find("dpkg-deb") is null)
        {
            Skip = "needs dpkg and dpkg-deb (a Debian or Ubuntu machine)";
        }
        else if (Directory.Exists("/var/lib/dpkg/info") && File.Exists("/var/lib/dpkg/info/presenced.list"))
        {
            Skip = "a presenced package is installed on this machine; the test would replace and purge it (dpkg --purge presenced first)";
        }
    }
}
