using PresenceD.Server.Sessions;
using PresenceD.Tests.Shared;

namespace PresenceD.Server.Tests.Sessions;

/// <summary>Conn ids stay unique when a node restarts with the same node_id.</summary>
public sealed class ConnIdsTests
{
    [Fact]
    public void Two_starts_of_one_node_id_never_hand_out_the_same_id()
    {
        var first = new ConnIds("n1");
        var second = new ConnIds("n1");
        string[] ids = [.. Enumerable.Range(0, 1000).Select(_ => first.Next()), .. Enumerable.Range(0, 1000).Select(_ => second.Next())];
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void An_id_is_node_incarnation_and_sequence_and_the_incarnation_is_short()
    {
        var ids = new ConnIds("n1", incarnation: 36 * 36 * 36 * 36 * 36L * 36 * 36 - 1);
        Assert.Equal("n1-zzzzzzz-1", ids.Next());
        Assert.Equal("n1-zzzzzzz-2", ids.Next());
        Assert.Equal("0", ConnIds.ToBase36(0));
        // Tenths of a second since 2025: 7 characters at most until 2273.
        long in2273 = ConnIds.NextIncarnation(new DateTimeOffset(2273, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(7, ConnIds.ToBase36(in2273).Length);
    }

    [Fact]
    public void Each_start_in_one_process_takes_a_later_incarnation_even_within_a_tenth_of_a_second()
    {
        var now = DateTimeOffset.UtcNow;
        long first = ConnIds.NextIncarnation(now);
        long second = ConnIds.NextIncarnation(now);
        Assert.True(second > first);
        Assert.True(ConnIds.NextIncarnation(now.AddDays(-1)) > second); // a clock set back does not repeat one here
    }

    [Fact]
    public async Task A_restarted_server_with_the_same_node_id_gives_new_conn_ids()
    {
        string firstConn;
        await using (TestServer before = TestServer.Start(o => o.NodeId = "restarted"))
        {
            await using TestClient client = await before.HelloAsync("a");
            firstConn = client.Conn;
        }
        await using TestServer after = TestServer.Start(o => o.NodeId = "restarted");
        await using TestClient again = await after.HelloAsync("a");
        Assert.StartsWith("restarted-", again.Conn, StringComparison.Ordinal);
        Assert.NotEqual(firstConn, again.Conn);
    }
}
