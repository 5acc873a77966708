using System.Globalization;

namespace PresenceD.Server.Sessions;

/// <summary>Connection ids unique across the cluster: this node's id and a per-node sequence, in hex.</summary>
internal sealed class ConnIds(string nodeId)
{
    private long _sequence;

    public string NodeId { get; } = nodeId;

    public string Next() => NodeId + "-" + Interlocked.Increment(ref _sequence).ToString("x", CultureInfo.InvariantCulture);

    /// <summary>A node id for a node not given one: random, so two nodes never share it by accident.</summary>
    public static string NewNodeId() => "n" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
}
