namespace PresenceD.Server.Diagnostics;

/// <summary>
/// What <c>/readyz</c> answers: ready when every named condition holds. A load balancer takes a node
/// out of rotation on 503, so each condition is something that makes new clients better off elsewhere.
/// </summary>
internal sealed class ReadinessCheck
{
    private readonly List<(string Name, Func<bool> Holds)> _conditions = [];
    private readonly List<(string Name, Func<string> State)> _reports = [];

    /// <summary>
    /// The daemon's condition: accepting clients (false while draining). The backplane's state is reported,
    /// not required: Redis is shared by every node, so when it is down every node would fail the check at once
    /// and the load balancer would have nowhere to send anyone, while each node can still serve its own members
    /// (the cluster is available first, see docs/cluster.md).
    /// </summary>
    public static ReadinessCheck ForDaemon(Func<bool> accepting, Func<string> backplaneState) => new ReadinessCheck()
        .Require("accepting", accepting)
        .Report("backplane", backplaneState);

    /// <summary>Adds a state shown in the answer that does not decide readiness.</summary>
    public ReadinessCheck Report(string name, Func<string> state)
    {
        _reports.Add((name, state));
        return this;
    }

    /// <summary>The reported states, as "name state" pairs.</summary>
    public string Describe() => string.Join(", ", _reports.Select(r => r.Name + " " + r.State()));

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
