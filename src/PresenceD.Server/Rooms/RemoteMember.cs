namespace PresenceD.Server.Rooms;

/// <summary>A member of a room connected to another node, as this node last heard of it.</summary>
internal sealed record RemoteMember(string User, string Conn, string Node, byte[]? Meta);
