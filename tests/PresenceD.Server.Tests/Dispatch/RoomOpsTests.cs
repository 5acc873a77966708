using PresenceD.Protocol;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Dispatch;

public sealed class RoomOpsTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public Task InitializeAsync()
    {
        _server = TestServer.Start(o =>
        {
            o.MaxRoomsPerConnection = 3;
            o.PresenceLimit = 3;
            o.MetaMax = 16;
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static byte[] Meta(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Join_snapshot_lists_self_and_others_get_one_diff()
    {
        await using TestClient a = await _server.HelloAsync("alice");
        await a.SendAsync(b => ClientFrames.Join(b, 1, "lobby", Meta("a"), hasMeta: true));
        JoinedMessage first = await a.ExpectAsync<JoinedMessage>();
        Assert.Equal(1u, first.Rid);
        Assert.Equal("lobby", first.Room);
        Assert.Equal("", first.Epoch);
        Assert.Equal(0ul, first.Offset);
        Assert.False(first.Recovered);
        Member self = Assert.Single(first.Members);
        Assert.Equal(("alice", a.Conn), (self.User, self.Conn));
        Assert.Equal(Meta("a"), self.Meta);
        Assert.Equal(1, first.Total);

        await using TestClient b = await _server.HelloAsync("bob");
        await b.SendAsync(f => ClientFrames.Join(f, 2, "lobby"));
        JoinedMessage second = await b.ExpectAsync<JoinedMessage>();
        Assert.Equal(2, second.Total);
        Assert.Equal(b.Conn, second.Members[0].Conn); // the joiner first
        Assert.Contains(second.Members, m => m.Conn == a.Conn && m.Meta is not null);
        Assert.Null(second.Members[0].Meta);

        PresenceDiffMessage diff = await a.ExpectAsync<PresenceDiffMessage>();
        Assert.Equal("lobby", diff.Room);
        Assert.Empty(diff.Leaves);
        Assert.Equal(b.Conn, Assert.Single(diff.Joins).Conn);
        Assert.True(await b.NothingWithinAsync(TimeSpan.FromMilliseconds(100))); // no diff about itself
    }

    [Fact]
    public async Task Rejoin_replies_joined_again_without_second_diff_and_meta_acts_as_update()
    {
        await using TestClient a = await _server.HelloAsync("alice");
        await using TestClient b = await _server.HelloAsync("bob");
        await a.SendAsync(f => ClientFrames.Join(f, 1, "r"));
        await a.ExpectAsync<JoinedMessage>();
        await b.SendAsync(f => ClientFrames.Join(f, 1, "r"));
        await b.ExpectAsync<JoinedMessage>();
        await a.ExpectAsync<PresenceDiffMessage>();

        await b.SendAsync(f => ClientFrames.Join(f, 2, "r"));
        JoinedMessage again = await b.ExpectAsync<JoinedMessage>();
        Assert.Equal(2, again.Total);
        Assert.True(await a.NothingWithinAsync(TimeSpan.FromMilliseconds(150)));

        await b.SendAsync(f => ClientFrames.Join(f, 3, "r", Meta("x"), hasMeta: true));
        await b.ExpectAsync<JoinedMessage>();
        PresenceDiffMessage update = await a.ExpectAsync<PresenceDiffMessage>();
        Assert.Null(Assert.Single(update.Leaves).Meta);
        Assert.Equal(Meta("x"), Assert.Single(update.Joins).Meta);
    }

    [Fact]
    public async Task Update_sends_leave_old_and_join_new_in_one_diff()
    {
        await using TestClient a = await _server.HelloAsync("alice");
        await using TestClient b = await _server.HelloAsync("bob");
        await a.SendAsync(f => ClientFrames.Join(f, 1, "u"));
        await a.ExpectAsync<JoinedMessage>();
        await b.SendAsync(f => ClientFrames.Join(f, 1, "u", Meta("old"), hasMeta: true));
        await b.ExpectAsync<JoinedMessage>();
        await a.ExpectAsync<PresenceDiffMessage>();

        await b.SendAsync(f => ClientFrames.Update(f, 5, "u", Meta("new"), hasMeta: true));
        Assert.Equal(5u, (await b.ExpectAsync<OkMessage>()).Rid);
        PresenceDiffMessage diff = await a.ExpectAsync<PresenceDiffMessage>();
        Assert.Equal(Meta("old"), Assert.Single(diff.Leaves).Meta);
        Assert.Equal(Meta("new"), Assert.Single(diff.Joins).Meta);
    }

    [Fact]
    public async Task Leave_sends_leave_diff_and_ok()
    {
        await using TestClient a = await _server.HelloAsync("alice");
        await using TestClient b = await _server.HelloAsync("bob");
        await a.SendAsync(f => ClientFrames.Join(f, 1, "l"));
        await a.ExpectAsync<JoinedMessage>();
        await b.SendAsync(f => ClientFrames.Join(f, 1, "l"));
        await b.ExpectAsync<JoinedMessage>();
        await a.ExpectAsync<PresenceDiffMessage>();
        await b.SendAsync(f => ClientFrames.Leave(f, 8, "l"));
        Assert.Equal(8u, (await b.ExpectAsync<OkMessage>()).Rid);
        PresenceDiffMessage diff = await a.ExpectAsync<PresenceDiffMessage>();
        Assert.Equal(b.Conn, Assert.Single(diff.Leaves).Conn);
        Assert.Empty(diff.Joins);
    }

    [Fact]
    public async Task Not_joined_errors()
    {
        await using TestClient a = await _server.HelloAsync("alice");
        await a.SendAsync(f => ClientFrames.Leave(f, 1, "nowhere"));
        Assert.Equal(ErrorCode.NotJoined, (await a.ExpectAsync<ErrorMessage>()).Code);
        await a.SendAsync(f => ClientFrames.Update(f, 2, "nowhere", default, hasMeta: false));
        Assert.Equal(ErrorCode.NotJoined, (await a.ExpectAsync<ErrorMessage>()).Code);
        await a.SendAsync(f => ClientFrames.Publish(f, 3, "nowhere", [1]));
        ErrorMessage error = await a.ExpectAsync<ErrorMessage>();
        Assert.Equal((3u, ErrorCode.NotJoined), (error.Rid, error.Code));
        await a.SendAsync(f => ClientFrames.Publish(f, 0, "nowhere", [1])); // rid 0: no reply
        await a.SendAsync(f => ClientFrames.Ping(f, 4));
        Assert.Equal(4u, (await a.ExpectAsync<PongMessage>()).Rid);
    }

    [Fact]
    public async Task Room_limit_meta_limit_and_bad_names_keep_the_connection_open()
    {
        await using TestClient a = await _server.HelloAsync("alice");
        for (uint i = 1; i <= 3; i++)
        {
            uint rid = i;
            await a.SendAsync(f => ClientFrames.Join(f, rid, "room" + rid));
            await a.ExpectAsync<JoinedMessage>();
        }
        await a.SendAsync(f => ClientFrames.Join(f, 4, "room4"));
        Assert.Equal(ErrorCode.Limit, (await a.ExpectAsync<ErrorMessage>()).Code);
        await a.SendAsync(f => ClientFrames.Join(f, 5, "room1", new byte[17], hasMeta: true));
        Assert.Equal(ErrorCode.TooLarge, (await a.ExpectAsync<ErrorMessage>()).Code);
        await a.SendAsync(f => ClientFrames.Join(f, 6, ""));
        Assert.Equal(ErrorCode.BadRequest, (await a.ExpectAsync<ErrorMessage>()).Code);
        await a.SendAsync(f => ClientFrames.Join(f, 7, "tab\there"));
        Assert.Equal(ErrorCode.BadRequest, (await a.ExpectAsync<ErrorMessage>()).Code);
        await a.SendAsync(f => ClientFrames.Join(f, 8, new string('r', 129)));
        Assert.Equal(ErrorCode.TooLarge, (await a.ExpectAsync<ErrorMessage>()).Code);
        await a.SendAsync(f => ClientFrames.Ping(f, 9));
        Assert.Equal(9u, (await a.ExpectAsync<PongMessage>()).Rid);
    }

    [Fact]
    public async Task Presence_and_count_need_no_membership_and_cap_at_presence_limit()
    {
        var members = new List<TestClient>();
        try
        {
            foreach (string user in new[] { "u1", "u2", "u2", "u3", "u4" })
            {
                TestClient c = await _server.HelloAsync(user);
                members.Add(c);
                await c.SendAsync(f => ClientFrames.Join(f, 1, "big"));
                JoinedMessage joined = await c.ExpectAsync<JoinedMessage>();
                Assert.Equal(members.Count, joined.Total);
                Assert.Equal(Math.Min(members.Count, 3), joined.Members.Count); // capped, self included
                Assert.Equal(c.Conn, joined.Members[0].Conn);
            }
            await using TestClient lobby = await _server.HelloAsync("watcher");
            await lobby.SendAsync(f => ClientFrames.Presence(f, 2, "big"));
            PresenceStateMessage state = await lobby.ExpectAsync<PresenceStateMessage>();
            Assert.Equal((2u, "big", 5L, 3), (state.Rid, state.Room, state.Total, state.Members.Count));
            await lobby.SendAsync(f => ClientFrames.Presence(f, 3, "big", 0));
            state = await lobby.ExpectAsync<PresenceStateMessage>();
            Assert.Equal((5L, 0), (state.Total, state.Members.Count));
            await lobby.SendAsync(f => ClientFrames.Presence(f, 4, "big", 2));
            Assert.Equal(2, (await lobby.ExpectAsync<PresenceStateMessage>()).Members.Count);
            await lobby.SendAsync(f => ClientFrames.Presence(f, 5, "empty-room"));
            state = await lobby.ExpectAsync<PresenceStateMessage>();
            Assert.Equal((0L, 0), (state.Total, state.Members.Count));

            await lobby.SendAsync(f => ClientFrames.Count(f, 6, "big"));
            CountStateMessage count = await lobby.ExpectAsync<CountStateMessage>();
            Assert.Equal((6u, "big", 5L, 4L), (count.Rid, count.Room, count.Connections, count.Users));
        }
        finally
        {
            foreach (TestClient c in members) await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task Online_answers_the_subset_online_and_refuses_over_online_max()
    {
        await using TestClient a = await _server.HelloAsync("friend-a");
        await using TestClient b = await _server.HelloAsync("friend-b");
        await a.SendAsync(f => ClientFrames.Online(f, 1, ["friend-b", "nobody", "friend-a"]));
        OnlineStateMessage online = await a.ExpectAsync<OnlineStateMessage>();
        Assert.Equal(1u, online.Rid);
        Assert.Equal(["friend-b", "friend-a"], online.Online);
        await a.SendAsync(f => ClientFrames.Online(f, 2, Enumerable.Range(0, 1001).Select(i => "u" + i).ToArray()));
        Assert.Equal(ErrorCode.BadRequest, (await a.ExpectAsync<ErrorMessage>()).Code);

        await b.DisposeAsync();
        await Eventually.TrueAsync(async () =>
        {
            await a.SendAsync(f => ClientFrames.Online(f, 3, ["friend-b"]));
            return (await a.ExpectAsync<OnlineStateMessage>()).Online.Count == 0;
        }, "friend-b to go offline once its only connection closed", TimeSpan.FromSeconds(5));
    }
}
