using System;
using System.Collections.Generic;

namespace PresenceD.Client;

/// <summary>The server accepted a new token (REFRESH): the session runs on it, and left the rooms it does not allow.</summary>
public sealed class TokenRefreshedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public TokenRefreshedEventArgs(long exp, IReadOnlyList<string> leftRooms, bool automatic)
    {
        Exp = exp;
        LeftRooms = leftRooms;
        Automatic = automatic;
    }

    /// <summary>The new token's exp claim, in seconds since 1970-01-01 UTC.</summary>
    public long Exp { get; }

    /// <summary>The new token's expiry.</summary>
    public DateTimeOffset ExpiresAt => DateTimeOffset.FromUnixTimeSeconds(Exp);

    /// <summary>Rooms the session left because the new token does not allow them (no longer in <see cref="PresenceClient.JoinedRooms"/>).</summary>
    public IReadOnlyList<string> LeftRooms { get; }

    /// <summary>True when the client refreshed by itself, with <see cref="PresenceClientOptions.TokenProvider"/>; false for <see cref="PresenceClient.RefreshAsync"/>.</summary>
    public bool Automatic { get; }
}
