using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Support;

/// <summary>A fact that is skipped, saying why, when a system program it drives is not installed (test.sh installs them).</summary>
internal sealed class RequiresProgramFactAttribute : FactAttribute
{
    public RequiresProgramFactAttribute(string program)
    {
        if (ChildProcess.Find(program) is null) Skip = $"{program} is not installed (test.sh installs it); this check cannot run here";
    }
}
