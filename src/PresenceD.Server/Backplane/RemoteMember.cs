namespace PresenceD.Server.Backplane;

/// <summary>A member of a room connected to another node, as this node last heard of it.</summary>
internal sealed record RemoteMember(string User, string Conn, string Node, byte[]? Meta);

/// <summary>A presence event applied to a room's replica while a snapshot was being read, replayed onto it.</summary>
internal readonly record struct RecordedChange(bool IsLeave, RemoteMember Member);
