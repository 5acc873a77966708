using System;
using System.Collections.Generic;
using Wire = PresenceD.Protocol.Messages;

namespace PresenceD.Client.Internal;

/// <summary>
/// The decoder's records (shared with the server and tools, in PresenceD.Protocol) turned into the client's public
/// types, so an application needs no namespace but PresenceD.Client.
/// </summary>
internal static class WireTypes
{
    public static ErrorCode Code(Protocol.ErrorCode code) => (ErrorCode)(byte)code;

    public static WelcomeMessage Welcome(Wire.WelcomeMessage w) =>
        new WelcomeMessage(w.User, w.Conn, w.Node, w.HeartbeatMs, w.TimeoutMs, w.MaxFrame, w.ResumeWindowMs, w.Resumed,
            (w.Features & Protocol.ProtocolFeatures.Refresh) != 0, w.Left ?? (IReadOnlyList<string>)Array.Empty<string>());

    public static JoinedMessage Joined(Wire.JoinedMessage j) => new JoinedMessage(j.Room, j.Epoch, j.Offset, Members(j.Members), j.Recovered, j.Total);

    public static PresenceStateMessage PresenceState(Wire.PresenceStateMessage p) => new PresenceStateMessage(p.Room, Members(p.Members), p.Total);

    public static CountStateMessage CountState(Wire.CountStateMessage c) => new CountStateMessage(c.Room, c.Connections, c.Users);

    public static IReadOnlyList<Member> Members(IReadOnlyList<Wire.Member> members)
    {
        if (members.Count == 0) return Array.Empty<Member>();
        var copy = new Member[members.Count];
        for (int i = 0; i < copy.Length; i++) copy[i] = new Member(members[i].User, members[i].Conn, members[i].Meta);
        return copy;
    }
}
