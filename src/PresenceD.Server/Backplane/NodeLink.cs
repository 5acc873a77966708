using System.Text;
using Microsoft.Extensions.Logging;
using PresenceD.Server.Rooms;
using StackExchange.Redis;

namespace PresenceD.Server.Backplane;

/// <summary>
/// The node's own channel, `pd:n:{node}` (sharded on a Redis Cluster), which carries the cross-node resume's messages
/// (<see cref="SessionLinkMessage"/>) to it. Subscribed at the start and again until a SUBSCRIBE succeeds; the library
/// subscribes it again after a reconnect. Sends go through the node's ordered writer, as every other write.
/// </summary>
internal sealed class NodeLink : ISessionLink
{
    private const byte FormatVersion = 1;
    private readonly RedisBackplane _backplane;
    private readonly CancellationTokenSource _stop = new();
    private Action<SessionLinkMessage>? _receiver;

    public NodeLink(RedisBackplane backplane)
    {
        _backplane = backplane;
        NodeId = backplane.NodeId;
    }

    public string NodeId { get; }

    public void Listen(Action<SessionLinkMessage> receiver) => _receiver = receiver;

    public static string ChannelName(string node) => "pd:n:" + HashSlots.Tag(node);

    private RedisChannel ChannelOf(string node) =>
        _backplane.Deployment.IsCluster ? RedisChannel.Sharded(ChannelName(node)) : RedisChannel.Literal(ChannelName(node));

    /// <summary>Subscribes the node's channel, retrying every sweep_interval until Redis takes it.</summary>
    public void Start() => _ = SubscribeAsync();

    public void Stop() => _stop.Cancel();

    private async Task SubscribeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                // The library's own timeout, not redis_timeout: a SUBSCRIBE given up on here may still reach Redis.
                ChannelMessageQueue queue = await _backplane.Gateway.Subscriber.SubscribeAsync(ChannelOf(NodeId)).ConfigureAwait(false);
                queue.OnMessage(message => OnMessage((byte[])message.Message!));
                return;
            }
            catch (Exception e)
            {
                _backplane.Logger.LogWarning("node channel {Channel} not subscribed ({Error}): resumes from other nodes wait for it; retrying", ChannelName(NodeId), e.Message);
            }
            try
            {
                await Task.Delay(_backplane.Options.SweepInterval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public bool Send(string toNode, SessionLinkMessage message)
    {
        if (_backplane.Health.State == BackplaneState.Degraded
            || !_backplane.Queue.TryEnqueue(BackplaneCommand.Publish(ChannelOf(toNode), Encode(message))))
        {
            _backplane.Logger.LogWarning("hand-over {Id}: {Kind} to node {Node} not sent (backplane unavailable); the hand-over ends by its deadline", message.Id, message.Kind, toNode);
            return false;
        }
        return true;
    }

    private void OnMessage(byte[] bytes)
    {
        _backplane.Health.CountReceived();
        try
        {
            _receiver?.Invoke(Decode(bytes));
        }
        catch (Exception e)
        {
            _backplane.Health.CountFailure();
            _backplane.Logger.LogError(e, "node channel message could not be applied");
        }
    }

    internal static byte[] Encode(SessionLinkMessage message)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(FormatVersion);
            w.Write((byte)message.Kind);
            w.Write(message.Id);
            w.Write(message.FromNode);
            w.Write(message.Token);
            w.Write(message.User);
            w.Write(message.Conn);
            w.Write(message.Rooms.Count);
            foreach (HandedOverRoom room in message.Rooms)
            {
                w.Write(room.Name);
                WriteBlock(w, room.Meta);
                WriteBlock(w, room.Will);
            }
            WriteBlock(w, message.Held);
        }
        return stream.ToArray();
    }

    /// <summary>Decodes a node channel message; throws <see cref="FormatException"/> on anything else.</summary>
    internal static SessionLinkMessage Decode(byte[] bytes)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            if (r.ReadByte() != FormatVersion) throw new FormatException("unknown node channel message format");
            var kind = (SessionLinkKind)r.ReadByte();
            string id = r.ReadString();
            string from = r.ReadString();
            string token = r.ReadString();
            string user = r.ReadString();
            string conn = r.ReadString();
            int count = r.ReadInt32();
            if (count < 0 || count > bytes.Length) throw new FormatException("bad room count");
            var rooms = new List<HandedOverRoom>(count);
            for (int i = 0; i < count; i++) rooms.Add(new HandedOverRoom(r.ReadString(), ReadBlock(r), ReadBlock(r)));
            byte[]? held = ReadBlock(r);
            return new SessionLinkMessage(kind, id, from) { Token = token, User = user, Conn = conn, Rooms = rooms, Held = held };
        }
        catch (EndOfStreamException e)
        {
            throw new FormatException("truncated node channel message", e);
        }
    }

    private static void WriteBlock(BinaryWriter w, byte[]? block)
    {
        w.Write(block?.Length ?? -1);
        if (block is not null) w.Write(block);
    }

    private static byte[]? ReadBlock(BinaryReader r)
    {
        int length = r.ReadInt32();
        if (length < 0) return null;
        byte[] block = r.ReadBytes(length);
        if (block.Length != length) throw new FormatException("truncated block");
        return block;
    }
}
