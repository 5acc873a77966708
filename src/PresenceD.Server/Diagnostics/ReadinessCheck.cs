using PresenceD.Server.Hosting;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// What <c>/readyz</c> answers: ready when every named condition holds. A load balancer takes a node
/// out of rotation on 503, so each condition is something that makes new clients better off elsewhere.
/// </summary>
internal sealed class ReadinessCheck
{
    private readonly List<(string Name, Func<bool> Holds)> _conditions = [];

    /// <summary>The daemon's conditions: accepting clients (false while draining). The backplane's health joins here.</summary>
    public static ReadinessCheck For(PresenceServer server) => new ReadinessCheck()
        .Require("accepting", () => server.Accepting);

    public ReadinessCheck Require(string name, Func<bool> holds)
    {
        _conditions.Add((name, holds));
        return this;
    }

    /// <summary>True when ready; <paramref name="failing"/> names the conditions that do not hold.</summary>
    public bool IsReady(out IReadOnlyList<string> failing)
    {
        List<string>? failed = null;
        foreach ((string name, Func<bool> holds) in _conditions)
        {
            if (!holds()) (failed ??= []).Add(name);
        }
        failing = failed ?? (IReadOnlyList<string>)[];
        return failed is null;
    }
}
