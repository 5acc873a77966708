namespace PresenceD.Server.Configuration;

/// <summary>The <c>auth</c> setting.</summary>
internal enum AuthMode
{
    None,
    Jwt,
}
