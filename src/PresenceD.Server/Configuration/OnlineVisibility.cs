namespace PresenceD.Server.Configuration;

/// <summary>Which users ONLINE may report to an asker (<c>online_visibility</c>).</summary>
internal enum OnlineVisibility
{
    /// <summary>Every user (the behaviour of earlier versions).</summary>
    All,

    /// <summary>The asker and the users who share a room with it now.</summary>
    SharedRooms,

    /// <summary>What the token's <c>see</c> claim allows (auth jwt only); without the claim, as SharedRooms.</summary>
    Claim,
}
