namespace PresenceD.Server.Configuration;

/// <summary>The <c>backplane</c> setting.</summary>
internal enum BackplaneKind
{
    Memory,
    Redis,
}
