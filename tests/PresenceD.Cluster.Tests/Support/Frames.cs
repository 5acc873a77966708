using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Cluster.Tests.Support;

/// <summary>Request helpers: connect to a node, send a frame and read its reply.</summary>
internal static class Frames
{
    /// <summary>HELLO to <paramref name="node"/> with a client that keeps itself alive (see <see cref="ClusterFixture.KeepAlive"/>).</summary>
    public static Task<TestClient> HelloAsync(this DaemonProcess node, string user) =>
        TestClient.HelloAsync(node.EndPoint, user, keepAlive: ClusterFixture.KeepAlive, client: "cluster-tests");

    public static async Task<JoinedMessage> JoinAsync(this TestClient client, string room, uint rid = 10, byte[]? meta = null, byte[]? will = null, (string Epoch, ulong Offset)? since = null)
    {
        await client.SendAsync(b => ClientFrames.Join(b, rid, room, meta, meta is not null, since?.Epoch, since?.Offset ?? 0, will, will is not null));
        return await client.ExpectAsync<JoinedMessage>();
    }

    public static async Task<ServerMessage?> PublishAsync(this TestClient client, string room, byte[] payload, uint rid = 20)
    {
        await client.SendAsync(b => ClientFrames.Publish(b, rid, room, payload));
        return rid == 0 ? null : await client.ReceiveAsync();
    }

    public static async Task<PresenceStateMessage> PresenceAsync(this TestClient client, string room, uint rid = 30)
    {
        await client.SendAsync(b => ClientFrames.Presence(b, rid, room));
        return await client.ExpectAsync<PresenceStateMessage>();
    }

    /// <summary>PRESENCE while other frames (diffs, messages) may still arrive: those are skipped.</summary>
    public static async Task<PresenceStateMessage> PresenceSkippingAsync(this TestClient client, string room, uint rid = 31)
    {
        await client.SendAsync(b => ClientFrames.Presence(b, rid, room));
        while (true)
        {
            if (await client.ReceiveAsync() is PresenceStateMessage state) return state;
        }
    }

    public static async Task<CountStateMessage> CountAsync(this TestClient client, string room, uint rid = 40)
    {
        await client.SendAsync(b => ClientFrames.Count(b, rid, room));
        return await client.ExpectAsync<CountStateMessage>();
    }

    public static async Task<OnlineStateMessage> OnlineAsync(this TestClient client, IReadOnlyList<string> users, uint rid = 50)
    {
        await client.SendAsync(b => ClientFrames.Online(b, rid, users));
        return await client.ExpectAsync<OnlineStateMessage>();
    }

    /// <summary>Matches a PRESENCE_DIFF that has <paramref name="conn"/> among its joins.</summary>
    public static Func<ServerMessage, bool> JoinOf(string conn) => m => m is PresenceDiffMessage d && d.Joins.Any(j => j.Conn == conn);

    /// <summary>Matches a PRESENCE_DIFF that has <paramref name="conn"/> among its leaves.</summary>
    public static Func<ServerMessage, bool> LeaveOf(string conn) => m => m is PresenceDiffMessage d && d.Leaves.Any(l => l.Conn == conn);

    public static string Conns(this IEnumerable<Member> members) => string.Join(",", members.Select(m => m.Conn).Order(StringComparer.Ordinal));
}
