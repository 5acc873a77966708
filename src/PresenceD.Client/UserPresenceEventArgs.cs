using System;

namespace PresenceD.Client;

/// <summary>
/// A user came online in a room (their first connection joined) or went offline (their last connection left).
/// A user on two devices raises one online event and, when both have gone, one offline event.
/// </summary>
public sealed class UserPresenceEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public UserPresenceEventArgs(string room, string user, bool online)
    {
        Room = room;
        User = user;
        Online = online;
    }

    /// <summary>The room.</summary>
    public string Room { get; }

    /// <summary>The user id.</summary>
    public string User { get; }

    /// <summary>True when the user came online, false when they went offline.</summary>
    public bool Online { get; }
}
