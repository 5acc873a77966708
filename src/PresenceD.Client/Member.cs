namespace PresenceD.Client;

/// <summary>A member of a room: one connection of a user, with its meta.</summary>
/// <param name="User">The user id.</param>
/// <param name="Conn">The connection id (a user on two devices is two members).</param>
/// <param name="Meta">The member's meta, opaque to the server; null when none.</param>
public sealed record Member(string User, string Conn, byte[]? Meta);
