namespace PresenceD.Protocol;

/// <summary>
/// Bits of HELLO's and WELCOME's <c>features</c> field (PROTOCOL.md, Version policy): the client says which
/// extensions of version 1 it knows, the server answers with those it knows too. An op an extension adds is sent
/// only when both sides have the bit.
/// </summary>
public static class ProtocolFeatures
{
    /// <summary>REFRESH (op 11) and its reply REFRESHED (op 75).</summary>
    public const uint Refresh = 1;

    /// <summary>Every feature this codec knows.</summary>
    public const uint All = Refresh;
}
