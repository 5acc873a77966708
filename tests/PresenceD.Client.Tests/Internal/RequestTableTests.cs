using PresenceD.Client.Internal;
using PresenceD.Protocol;
using PresenceD.Protocol.Messages;

namespace PresenceD.Client.Tests.Internal;

public sealed class RequestTableTests
{
    [Fact]
    public async Task A_reply_completes_the_request_with_the_same_rid()
    {
        var table = new RequestTable();
        uint first = table.Register(1000, "A", out Task<object> a);
        uint second = table.Register(1000, "B", out Task<object> b);

        Assert.NotEqual(first, second);
        Assert.True(table.Complete(second, new OkMessage(second)));
        Assert.Equal(second, ((OkMessage)await b).Rid);
        Assert.False(a.IsCompleted);
        Assert.False(table.Complete(second, new OkMessage(second)));
    }

    [Fact]
    public async Task An_error_reply_becomes_a_typed_exception()
    {
        var table = new RequestTable();
        uint rid = table.Register(1000, "JOIN", out Task<object> reply);

        table.Complete(rid, new ErrorMessage(rid, Protocol.ErrorCode.Forbidden, "no"));

        var e = await Assert.ThrowsAsync<PresenceRequestException>(() => reply);
        Assert.Equal(ErrorCode.Forbidden, e.Code);
        Assert.Equal("no", e.ServerMessage);
    }

    [Fact]
    public async Task Expire_fails_only_overdue_requests()
    {
        var table = new RequestTable();
        table.Register(100, "early", out Task<object> early);
        table.Register(200, "late", out Task<object> late);

        Assert.Equal(0, table.Expire(99));
        Assert.Equal(1, table.Expire(150));

        await Assert.ThrowsAsync<TimeoutException>(() => early);
        Assert.False(late.IsCompleted);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public async Task FailAll_fails_everything_outstanding()
    {
        var table = new RequestTable();
        table.Register(100, "a", out Task<object> a);
        table.Register(100, "b", out Task<object> b);

        table.FailAll(new PresenceConnectionException("gone"));

        await Assert.ThrowsAsync<PresenceConnectionException>(() => a);
        await Assert.ThrowsAsync<PresenceConnectionException>(() => b);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Rid_zero_is_never_handed_out()
    {
        var table = new RequestTable();
        var rids = new HashSet<uint>();
        for (int i = 0; i < 1000; i++)
        {
            uint rid = table.Register(0, "x", out _);
            Assert.NotEqual(0u, rid);
            Assert.True(rids.Add(rid));
        }
    }
}
