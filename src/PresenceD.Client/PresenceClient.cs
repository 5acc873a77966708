using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using PresenceD.Client.Internal;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;

namespace PresenceD.Client;

/// <summary>
/// A connection to a PresenceD server: requests (join, leave, publish, update, presence, count, online, ping) with
/// timeouts, events for messages and presence, a presence model per joined room, automatic heartbeats, and automatic
/// reconnects that re-join every room with <c>since</c> so missed messages are replayed when the server still has them.
/// Thread-safe. Events are raised one at a time in arrival order, never on the socket's receive loop
/// (see <see cref="EventDispatchMode"/>).
/// </summary>
public sealed partial class PresenceClient : IAsyncDisposable, IDisposable
{
    private readonly PresenceClientOptions _options;
    private readonly RequestTable _requests = new RequestTable();
    private readonly EventDispatcher _events;
    private readonly ConcurrentDictionary<string, RoomSubscription> _rooms = new ConcurrentDictionary<string, RoomSubscription>(StringComparer.Ordinal);
    private readonly object _roomsLock = new object();
    private readonly object _stateLock = new object();
    private readonly CancellationTokenSource _lifetime = new CancellationTokenSource();
    private readonly Timer _timer;
    private volatile RoomSubscription[] _roomList = Array.Empty<RoomSubscription>();
    private volatile ClientConnection? _connection;
    private volatile HeartbeatPolicy? _heartbeat;
    private volatile WelcomeMessage? _welcome;
    private volatile GoAwayMessage? _goAway;
    private ConnectionState _state = ConnectionState.Disconnected;
    private int _ticking;

    /// <summary>Creates a client; nothing happens until <see cref="ConnectAsync"/>.</summary>
    public PresenceClient(PresenceClientOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _events = new EventDispatcher(options.EventDispatch, Raise);
        _timer = new Timer(_ => OnTick(), null, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>A message arrived in a joined room.</summary>
    public event EventHandler<RoomMessageEventArgs>? MessageReceived;

    /// <summary>A joined room's presence changed (a JOINED snapshot or a PRESENCE_DIFF was applied).</summary>
    public event EventHandler<PresenceChangedEventArgs>? PresenceChanged;

    /// <summary>A user came online (first connection) or went offline (last connection) in a joined room.</summary>
    public event EventHandler<UserPresenceEventArgs>? UserPresenceChanged;

    /// <summary>A room was re-joined (or could not be) after a reconnect; says whether missed messages were recovered.</summary>
    public event EventHandler<RoomRejoinedEventArgs>? RoomRejoined;

    /// <summary>The connection state changed.</summary>
    public event EventHandler<ConnectionStateChangedEventArgs>? StateChanged;

    /// <summary>The current state.</summary>
    public ConnectionState State
    {
        get { lock (_stateLock) return _state; }
    }

    /// <summary>The last WELCOME (user, conn id, node, heartbeat settings); null before the first.</summary>
    public WelcomeMessage? Welcome => _welcome;

    /// <summary>Rooms the application has joined (and that will be re-joined after a reconnect).</summary>
    public IReadOnlyList<string> JoinedRooms => _roomList.Select(r => r.Room).ToArray();

    /// <summary>Events waiting to be raised (manual dispatch mode).</summary>
    public int PendingEvents => _events.Pending;

    /// <summary>The presence model of a joined room, or null when the room is not joined.</summary>
    public RoomPresence? GetPresence(string room) => _rooms.TryGetValue(room, out RoomSubscription? sub) ? sub.Presence : null;

    /// <summary>
    /// Connects and says HELLO. Throws <see cref="PresenceConnectionException"/> when the server cannot be reached,
    /// <see cref="PresenceRequestException"/> when it refuses (AUTH, VERSION, ...), <see cref="TimeoutException"/>.
    /// </summary>
    public async Task<WelcomeMessage> ConnectAsync(CancellationToken cancellationToken = default)
    {
        lock (_stateLock)
        {
            if (_state != ConnectionState.Disconnected) throw new InvalidOperationException($"ConnectAsync needs a disconnected client (it is {_state})");
        }
        SetState(ConnectionState.Connecting, null);
        try
        {
            WelcomeMessage welcome = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
            SetState(ConnectionState.Connected, null);
            return welcome;
        }
        catch (Exception e)
        {
            SetState(ConnectionState.Disconnected, e);
            throw;
        }
    }

    /// <summary>
    /// Joins <paramref name="room"/> with optional <paramref name="meta"/> and last-will payload; returns the JOINED
    /// snapshot, already applied to <see cref="GetPresence"/>. The room is re-joined automatically after reconnects.
    /// </summary>
    public async Task<JoinedMessage> JoinAsync(string room, byte[]? meta = null, byte[]? will = null, CancellationToken cancellationToken = default)
    {
        RequireName(room, nameof(room));
        ClientConnection connection = RequireConnection();
        bool added = false;
        RoomSubscription sub;
        lock (_roomsLock)
        {
            if (_rooms.TryGetValue(room, out RoomSubscription? existing))
            {
                sub = existing;
                sub.Meta = meta;
                sub.Will = will;
            }
            else
            {
                sub = new RoomSubscription(room, meta, will);
                _rooms[room] = sub;
                _roomList = _rooms.Values.ToArray();
                added = true;
            }
        }
        try
        {
            return await SendJoin(connection, sub, since: false, cancellationToken).ConfigureAwait(false);
        }
        catch (PresenceRequestException)
        {
            if (added) RemoveRoom(room);
            throw;
        }
    }

    /// <summary>Leaves <paramref name="room"/> (its will is discarded) and forgets its presence model.</summary>
    public async Task LeaveAsync(string room, CancellationToken cancellationToken = default)
    {
        RequireName(room, nameof(room));
        ClientConnection connection = RequireConnection();
        RemoveRoom(room);
        await Request<OkMessage, string>(connection, "LEAVE", room, static (output, rid, r) => ClientFrames.Leave(output, rid, r), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes and waits for the server's OK (errors such as NOT_JOINED, RATE, DEGRADED throw).</summary>
    public async Task PublishAsync(string room, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        RequireName(room, nameof(room));
        ClientConnection connection = RequireConnection();
        await Request<OkMessage, (string Room, ReadOnlyMemory<byte> Payload)>(connection, "PUBLISH", (room, payload),
            static (output, rid, s) => ClientFrames.Publish(output, rid, s.Room, s.Payload.Span), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes without asking for a reply (rid 0): cheapest, but errors are not reported.</summary>
    public void Publish(string room, ReadOnlySpan<byte> payload)
    {
        RequireName(room, nameof(room));
        ClientConnection connection = RequireConnection();
        FrameBuffer output = connection.BeginWrite();
        try
        {
            ClientFrames.Publish(output, 0, room, payload);
        }
        finally
        {
            connection.EndWrite();
        }
    }

    /// <summary>Replaces this connection's meta in a joined room (null removes it); kept for re-joins.</summary>
    public async Task UpdateAsync(string room, byte[]? meta, CancellationToken cancellationToken = default)
    {
        RequireName(room, nameof(room));
        ClientConnection connection = RequireConnection();
        await Request<OkMessage, (string Room, byte[]? Meta)>(connection, "UPDATE", (room, meta),
            static (output, rid, s) => ClientFrames.Update(output, rid, s.Room, s.Meta, s.Meta is not null), cancellationToken).ConfigureAwait(false);
        if (_rooms.TryGetValue(room, out RoomSubscription? sub)) sub.Meta = meta;
    }

    /// <summary>Asks who is in a room (joined or not): at most <paramref name="limit"/> members and the true total.</summary>
    public Task<PresenceStateMessage> PresenceAsync(string room, uint? limit = null, CancellationToken cancellationToken = default)
    {
        RequireName(room, nameof(room));
        ClientConnection connection = RequireConnection();
        return Request<PresenceStateMessage, (string Room, uint? Limit)>(connection, "PRESENCE", (room, limit),
            static (output, rid, s) => ClientFrames.Presence(output, rid, s.Room, s.Limit), cancellationToken);
    }

    /// <summary>Counts a room's connections and distinct users.</summary>
    public Task<CountStateMessage> CountAsync(string room, CancellationToken cancellationToken = default)
    {
        RequireName(room, nameof(room));
        ClientConnection connection = RequireConnection();
        return Request<CountStateMessage, string>(connection, "COUNT", room, static (output, rid, r) => ClientFrames.Count(output, rid, r), cancellationToken);
    }

    /// <summary>Which of <paramref name="users"/> (at most 1000) have a live connection anywhere.</summary>
    public async Task<IReadOnlyList<string>> OnlineAsync(IReadOnlyList<string> users, CancellationToken cancellationToken = default)
    {
        if (users is null) throw new ArgumentNullException(nameof(users));
        ClientConnection connection = RequireConnection();
        OnlineStateMessage state = await Request<OnlineStateMessage, IReadOnlyList<string>>(connection, "ONLINE", users,
            static (output, rid, u) => ClientFrames.Online(output, rid, u), cancellationToken).ConfigureAwait(false);
        return state.Online;
    }

    /// <summary>Sends PING and returns the round-trip time.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        ClientConnection connection = RequireConnection();
        long started = MonotonicClock.NowMs;
        await Request<PongMessage, int>(connection, "PING", 0, static (output, rid, _) => ClientFrames.Ping(output, rid), cancellationToken).ConfigureAwait(false);
        return TimeSpan.FromMilliseconds(MonotonicClock.NowMs - started);
    }

    /// <summary>Raises queued events on the calling thread (for <see cref="EventDispatchMode.Manual"/>); returns how many.</summary>
    public int DispatchEvents() => _events.DispatchPending();

    /// <summary>Says BYE (presence removed at once, wills discarded), closes, and stops reconnecting. Final.</summary>
    public async Task CloseAsync()
    {
        ClientConnection? connection;
        lock (_stateLock)
        {
            if (_state == ConnectionState.Closed) return;
            connection = _connection;
        }
        SetState(ConnectionState.Closed, null);
        _lifetime.Cancel();
        _timer.Change(Timeout.Infinite, Timeout.Infinite);
        if (connection is not null && !connection.IsClosed)
        {
            FrameBuffer output = connection.BeginWrite();
            try
            {
                ClientFrames.Bye(output);
            }
            finally
            {
                connection.EndWrite();
            }
            await connection.DrainAndShutdownAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            connection.Close();
        }
        _requests.FailAll(new PresenceConnectionException("the client was closed"));
        _timer.Dispose();
        _events.Dispose();
    }

    /// <summary>Same as <see cref="CloseAsync"/>.</summary>
    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);

    /// <summary>Same as <see cref="CloseAsync"/>, blocking.</summary>
    public void Dispose() => CloseAsync().GetAwaiter().GetResult();

    /// <summary>Breaks the connection as a network failure would (no BYE), so reconnects can be exercised.</summary>
    internal void AbortConnection() => _connection?.Close(new System.IO.IOException("connection aborted"));

    private Task<JoinedMessage> SendJoin(ClientConnection connection, RoomSubscription sub, bool since, CancellationToken cancellationToken)
    {
        string? epoch = since && !string.IsNullOrEmpty(sub.Epoch) ? sub.Epoch : null;
        return Request<JoinedMessage, (RoomSubscription Sub, string? Epoch)>(connection, "JOIN", (sub, epoch),
            static (output, rid, s) => ClientFrames.Join(output, rid, s.Sub.Room, s.Sub.Meta, s.Sub.Meta is not null, s.Epoch, s.Sub.Offset, s.Sub.Will, s.Sub.Will is not null),
            cancellationToken);
    }

    /// <summary>Registers a request, encodes it under the connection's write lock, and awaits its typed reply.</summary>
    private Task<T> Request<T, TState>(ClientConnection connection, string op, TState state, Action<FrameBuffer, uint, TState> encode,
        CancellationToken cancellationToken) where T : ServerMessage
    {
        uint rid = _requests.Register(Deadline(), op, out Task<ServerMessage> reply);
        FrameBuffer output = connection.BeginWrite();
        try
        {
            encode(output, rid, state);
        }
        finally
        {
            connection.EndWrite();
        }
        return AwaitReply<T>(rid, reply, cancellationToken);
    }

    private async Task<T> AwaitReply<T>(uint rid, Task<ServerMessage> reply, CancellationToken cancellationToken) where T : ServerMessage
    {
        ServerMessage message;
        if (cancellationToken.CanBeCanceled)
        {
            using (cancellationToken.Register(() => _requests.Fail(rid, new OperationCanceledException(cancellationToken))))
                message = await reply.ConfigureAwait(false);
        }
        else
        {
            message = await reply.ConfigureAwait(false);
        }
        return message as T ?? throw new ProtocolException($"expected {typeof(T).Name} for rid {rid}, got {message.Op}");
    }

    private void RemoveRoom(string room)
    {
        lock (_roomsLock)
        {
            if (_rooms.TryRemove(room, out _)) _roomList = _rooms.Values.ToArray();
        }
    }

    private ClientConnection RequireConnection()
    {
        ClientConnection? connection = _connection;
        ConnectionState state = State;
        if (connection is null || connection.IsClosed || state != ConnectionState.Connected)
            throw new PresenceConnectionException($"not connected (state {state})");
        return connection;
    }

    private long Deadline() => MonotonicClock.NowMs + (long)_options.RequestTimeout.TotalMilliseconds;

    private static void RequireName(string value, string name)
    {
        // Emptiness and length are the server's to judge (BAD_REQUEST, TOO_LARGE), so its limits live in one place.
        if (value is null) throw new ArgumentNullException(name);
    }

    private static bool StopsReconnecting(ErrorCode code) =>
        code == ErrorCode.Auth || code == ErrorCode.Version || code == ErrorCode.Protocol;

    private static Exception DescribeConnectFailure(string host, int port, Exception error) => error switch
    {
        SocketException socket => new PresenceConnectionException($"cannot connect to {host}:{port}: {socket.Message}", socket),
        TimeoutException timeout => new PresenceConnectionException(timeout.Message, timeout),
        _ => error,
    };
}
