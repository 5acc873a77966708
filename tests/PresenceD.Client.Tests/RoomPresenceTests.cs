using System.Text;

namespace PresenceD.Client.Tests;

public sealed class RoomPresenceTests
{
    private static Member M(string user, string conn, string? meta = null) =>
        new(user, conn, meta is null ? null : Encoding.UTF8.GetBytes(meta));

    [Fact]
    public void Snapshot_makes_every_user_online_once()
    {
        var room = new RoomPresence("r");
        PresenceChangedEventArgs change = room.ApplySnapshot([M("alice", "c1"), M("alice", "c2"), M("bob", "c3")], 3);

        Assert.True(change.IsSnapshot);
        Assert.Equal(3, change.Joined.Count);
        Assert.Equal(["alice", "bob"], change.UsersOnline.Order());
        Assert.Empty(change.UsersOffline);
        Assert.Equal(3, room.Total);
        Assert.True(room.IsComplete);
        Assert.Equal(2, room.ConnectionsOf("alice"));
    }

    [Fact]
    public void A_second_connection_of_a_user_is_no_new_online_and_the_last_leave_is_offline()
    {
        var room = new RoomPresence("r");
        room.ApplySnapshot([M("me", "c0"), M("alice", "c1")], 2);

        PresenceChangedEventArgs second = room.ApplyDiff([M("alice", "c2")], []);
        Assert.Single(second.Joined);
        Assert.Empty(second.UsersOnline);

        PresenceChangedEventArgs firstGone = room.ApplyDiff([], [M("alice", "c1")]);
        Assert.Single(firstGone.Left);
        Assert.Empty(firstGone.UsersOffline);
        Assert.True(room.IsUserOnline("alice"));

        PresenceChangedEventArgs lastGone = room.ApplyDiff([], [M("alice", "c2")]);
        Assert.Equal(["alice"], lastGone.UsersOffline);
        Assert.False(room.IsUserOnline("alice"));
        Assert.Equal(1, room.Total);
    }

    [Fact]
    public void An_update_is_a_leave_and_join_of_one_conn_and_does_not_flicker_the_user()
    {
        var room = new RoomPresence("r");
        room.ApplySnapshot([M("alice", "c1", "old")], 1);

        PresenceChangedEventArgs change = room.ApplyDiff([M("alice", "c1", "new")], [M("alice", "c1", "old")]);

        Assert.Empty(change.Joined);
        Assert.Empty(change.Left);
        Assert.Single(change.Updated);
        Assert.Empty(change.UsersOnline);
        Assert.Empty(change.UsersOffline);
        Assert.Equal("new", Encoding.UTF8.GetString(room.Members.Single().Meta!));
    }

    [Fact]
    public void A_new_snapshot_reports_changes_against_the_old_state()
    {
        var room = new RoomPresence("r");
        room.ApplySnapshot([M("me", "c0"), M("alice", "c1"), M("bob", "c2", "x")], 3);

        PresenceChangedEventArgs change = room.ApplySnapshot([M("me", "c9"), M("bob", "c2", "y"), M("carol", "c3")], 3);

        Assert.Equal(["c3", "c9"], change.Joined.Select(m => m.Conn).Order());
        Assert.Equal(["c0", "c1"], change.Left.Select(m => m.Conn).Order());
        Assert.Equal(["c2"], change.Updated.Select(m => m.Conn));
        Assert.Equal(["carol"], change.UsersOnline);
        Assert.Equal(["alice"], change.UsersOffline);
    }

    [Fact]
    public void A_capped_snapshot_keeps_the_true_total_through_diffs()
    {
        var room = new RoomPresence("r");
        room.ApplySnapshot([M("me", "c0")], 10);
        Assert.False(room.IsComplete);
        Assert.Equal(10, room.Total);

        room.ApplyDiff([], [M("stranger", "c7")]);
        Assert.Equal(9, room.Total);
        room.ApplyDiff([M("new", "c8")], []);
        Assert.Equal(10, room.Total);
        Assert.Equal(2, room.Members.Count);
    }

    [Fact]
    public void A_leave_of_an_unknown_conn_in_a_complete_room_changes_nothing()
    {
        var room = new RoomPresence("r");
        room.ApplySnapshot([M("me", "c0")], 1);

        PresenceChangedEventArgs change = room.ApplyDiff([], [M("ghost", "c5")]);

        Assert.True(change.IsEmpty);
        Assert.Equal(1, room.Total);
    }
}
