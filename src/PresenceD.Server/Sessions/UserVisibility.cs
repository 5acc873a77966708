using PresenceD.Server.Configuration;
using PresenceD.Server.Rooms;

namespace PresenceD.Server.Sessions;

/// <summary>
/// Which users a session may learn are online (ONLINE), fixed at HELLO from <c>online_visibility</c> and the token's
/// <c>see</c> claim. A user it may not see is answered exactly as an offline one, so the reply leaks nothing. A
/// session always sees its own user.
/// </summary>
internal sealed class UserVisibility
{
    /// <summary>The <c>see</c> element that grants the users sharing a room with the asker.</summary>
    public const string SharedRoomsGrant = "@shared_rooms";

    public static readonly UserVisibility Everyone = new(everyone: true, sharedRooms: false, []);

    public static readonly UserVisibility SharedRoomsOnly = new(everyone: false, sharedRooms: true, []);

    private readonly bool _everyone;
    private readonly bool _sharedRooms;
    private readonly string[] _userPatterns;

    private UserVisibility(bool everyone, bool sharedRooms, string[] userPatterns)
    {
        _everyone = everyone;
        _sharedRooms = sharedRooms;
        _userPatterns = userPatterns;
    }

    /// <summary>The visibility of a new session: <paramref name="see"/> is the token's claim (null when absent).</summary>
    public static UserVisibility For(OnlineVisibility mode, string[]? see) => mode switch
    {
        OnlineVisibility.All => Everyone,
        OnlineVisibility.SharedRooms => SharedRoomsOnly,
        _ when see is null => SharedRoomsOnly,
        _ => FromClaim(see),
    };

    private static UserVisibility FromClaim(string[] see)
    {
        if (see.Contains("*")) return Everyone;
        bool shared = see.Contains(SharedRoomsGrant);
        return new UserVisibility(everyone: false, shared, see.Where(p => p != SharedRoomsGrant).ToArray());
    }

    /// <summary>True when <paramref name="asker"/> may be told whether <paramref name="user"/> is online.</summary>
    public bool MaySee(Session asker, string user)
    {
        if (_everyone || user == asker.User) return true;
        foreach (string pattern in _userPatterns)
        {
            if (pattern.EndsWith('*') ? user.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal) : user == pattern) return true;
        }
        if (_sharedRooms)
        {
            foreach (RoomMember member in asker.Rooms)
            {
                if (member.Visible && member.Room.HasUser(user)) return true;
            }
        }
        return false;
    }
}
