using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using PresenceD.Client.Internal;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using Wire = PresenceD.Protocol.Messages;

namespace PresenceD.Client;

/// <summary>
/// A connection to a PresenceD server: requests (join, leave, publish, update, presence, count, online, ping, refresh) with
/// timeouts, events for messages and presence, a presence model per joined room, automatic heartbeats, and automatic
/// reconnects that re-join every room with <c>since</c> so missed messages are replayed when the server still has them.
/// Thread-safe. Events are raised one at a time in arrival order, never on the socket's receive loop
/// (see <see cref="EventDispatchMode"/>). Requests the server would refuse for their size throw
/// <see cref="PresenceTooLargeException"/> before anything is sent.
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
    private volatile Wire.GoAwayMessage? _goAway;
    // The token the last WELCOME gave (null: none yet, or the server offers no resumption); sent by the next HELLO.
    private volatile string? _resumeToken;
    private ConnectionState _state = ConnectionState.Disconnected;
    private TaskCompletionSource<bool> _stateChanged = NewSignal();
    private int _ticking;

    /// <summary>
    /// Creates a client; nothing happens until <see cref="ConnectAsync"/>. With
    /// <see cref="EventDispatchMode.SynchronizationContext"/> and no <see cref="PresenceClientOptions.SynchronizationContext"/>,
    /// it captures the current context, and throws <see cref="InvalidOperationException"/> when there is none.
    /// </summary>
    public PresenceClient(PresenceClientOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        SynchronizationContext? context = null;
        if (options.EventDispatch == EventDispatchMode.SynchronizationContext)
        {
            context = options.SynchronizationContext ?? SynchronizationContext.Current ?? throw new InvalidOperationException(
                "EventDispatchMode.SynchronizationContext needs a SynchronizationContext: create the client on the thread that " +
                "should raise events (Unity's main thread, a UI thread) or set PresenceClientOptions.SynchronizationContext");
        }
        if (!(options.TokenRefreshAt > 0 && options.TokenRefreshAt <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.TokenRefreshAt, "TokenRefreshAt must be greater than 0 and at most 1");
        _events = new EventDispatcher(options.EventDispatch, options.MaxPendingEvents, context, Raise);
        _timer = new Timer(_ => OnTick(), null, Timeout.Infinite, Timeout.Infinite);
        _refreshTimer = new Timer(_ => _ = RefreshFromProviderAsync(), null, Timeout.Infinite, Timeout.Infinite);
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

    /// <summary>The last WELCOME (user, conn id, node, heartbeat settings, max_frame); null before the first.</summary>
    public WelcomeMessage? Welcome => _welcome;

    /// <summary>Rooms the application has joined (and that will be re-joined after a reconnect).</summary>
    public IReadOnlyList<string> JoinedRooms => _roomList.Select(r => r.Room).ToArray();

    /// <summary>Events waiting to be raised (at most <see cref="PresenceClientOptions.MaxPendingEvents"/>).</summary>
    public int PendingEvents => _events.Pending;

    /// <summary>
    /// Events dropped since the client was created, oldest first, because <see cref="PresenceClientOptions.MaxPendingEvents"/>
    /// were already waiting to be raised. The presence models stay exact; re-read them when this grows.
    /// </summary>
    public long DroppedEvents => _events.Dropped;

    /// <summary>The presence model of a joined room, or null when the room is not joined.</summary>
    public RoomPresence? GetPresence(string room) => _rooms.TryGetValue(room, out RoomSubscription? sub) ? sub.Presence : null;

    /// <summary>
    /// Connects and says HELLO; with <see cref="PresenceClientOptions.RetryFirstConnect"/>, keeps trying (with the
    /// back-off) until welcomed. Throws <see cref="PresenceConnectionException"/> when the server cannot be reached,
    /// <see cref="PresenceRequestException"/> when it refuses (AUTH, VERSION, ...), <see cref="TimeoutException"/>, or
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
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
            WelcomeMessage welcome = await FirstConnectAsync(cancellationToken).ConfigureAwait(false);
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
    /// <para>
    /// When it throws, the room is not joined: after a refusal (<see cref="PresenceRequestException"/>), a size refused
    /// locally, a timeout, a lost connection or a cancellation, the room is absent from <see cref="JoinedRooms"/> and,
    /// because the client then sends LEAVE behind its JOIN, from the server too. A cancellation that comes after the
    /// JOINED arrived is too late: the call returns and the room is joined. Joining a room that is already joined
    /// updates its meta and will; if that throws, the room stays joined (with the old meta after a refusal, with
    /// either one after a cancellation or timeout).
    /// </para>
    /// </summary>
    public async Task<JoinedMessage> JoinAsync(string room, byte[]? meta = null, byte[]? will = null, CancellationToken cancellationToken = default)
    {
        CheckName(room, nameof(room));
        CheckMeta(meta, nameof(meta));
        cancellationToken.ThrowIfCancellationRequested();
        long deadline = Deadline();
        ClientConnection connection = await AcquireConnectionAsync("JOIN", deadline, cancellationToken).ConfigureAwait(false);
        bool added = false;
        RoomSubscription sub;
        byte[]? previousMeta = null, previousWill = null;
        lock (_roomsLock)
        {
            if (_rooms.TryGetValue(room, out RoomSubscription? existing))
            {
                sub = existing;
                previousMeta = sub.Meta;
                previousWill = sub.Will;
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
        uint rid;
        Task<object> reply;
        try
        {
            rid = SendJoin(connection, sub, since: false, deadline, out reply);
        }
        catch
        {
            UndoJoin(sub, added, previousMeta, previousWill);
            throw;
        }
        try
        {
            return await AwaitReply<JoinedMessage>(rid, reply, cancellationToken).ConfigureAwait(false);
        }
        catch (PresenceRequestException)
        {
            UndoJoin(sub, added, previousMeta, previousWill);
            throw;
        }
        catch (Exception) when (added)
        {
            // Cancelled, timed out or cut off after the JOIN went out: the server may have joined. LEAVE (rid 0: no
            // reply) goes behind the JOIN on the same connection, and the server handles a connection's frames in order.
            RemoveRoom(sub);
            SendWithoutReply(connection, room, static (output, r) => ClientFrames.Leave(output, 0, r));
            throw;
        }
    }

    /// <summary>Leaves <paramref name="room"/> (its will is discarded) and forgets its presence model.</summary>
    public async Task LeaveAsync(string room, CancellationToken cancellationToken = default)
    {
        CheckName(room, nameof(room));
        cancellationToken.ThrowIfCancellationRequested();
        long deadline = Deadline();
        ClientConnection connection = await AcquireConnectionAsync("LEAVE", deadline, cancellationToken).ConfigureAwait(false);
        RemoveRoom(room);
        uint rid = Send(connection, "LEAVE", nameof(room), room, static (output, id, r) => ClientFrames.Leave(output, id, r), deadline, out Task<object> reply);
        await AwaitReply<Wire.OkMessage>(rid, reply, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes and waits for the server's OK (errors such as NOT_JOINED, RATE, DEGRADED throw).</summary>
    public async Task PublishAsync(string room, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        CheckName(room, nameof(room));
        CheckPayload(payload.Length, nameof(payload));
        await Request<Wire.OkMessage, (string Room, ReadOnlyMemory<byte> Payload)>("PUBLISH", nameof(payload), (room, payload),
            static (output, rid, s) => ClientFrames.Publish(output, rid, s.Room, s.Payload.Span), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes without asking for a reply (rid 0): cheapest, but errors are not reported. Never waits for a connection:
    /// throws <see cref="PresenceConnectionException"/> while not connected.
    /// </summary>
    public void Publish(string room, ReadOnlySpan<byte> payload)
    {
        CheckName(room, nameof(room));
        CheckPayload(payload.Length, nameof(payload));
        ClientConnection connection = CurrentConnection() ?? throw new PresenceConnectionException($"not connected (state {State})");
        FrameBuffer output = connection.BeginWrite();
        int start = output.WrittenCount;
        try
        {
            ClientFrames.Publish(output, 0, room, payload);
            CheckFrame(output, start, nameof(payload));
        }
        catch
        {
            output.Truncate(start);
            throw;
        }
        finally
        {
            connection.EndWrite();
        }
    }

    /// <summary>Replaces this connection's meta in a joined room (null removes it); kept for re-joins.</summary>
    public async Task UpdateAsync(string room, byte[]? meta, CancellationToken cancellationToken = default)
    {
        CheckName(room, nameof(room));
        CheckMeta(meta, nameof(meta));
        await Request<Wire.OkMessage, (string Room, byte[]? Meta)>("UPDATE", nameof(meta), (room, meta),
            static (output, rid, s) => ClientFrames.Update(output, rid, s.Room, s.Meta, s.Meta is not null), cancellationToken).ConfigureAwait(false);
        if (_rooms.TryGetValue(room, out RoomSubscription? sub)) sub.Meta = meta;
    }

    /// <summary>Asks who is in a room (joined or not): at most <paramref name="limit"/> members and the true total.</summary>
    public Task<PresenceStateMessage> PresenceAsync(string room, uint? limit = null, CancellationToken cancellationToken = default)
    {
        CheckName(room, nameof(room));
        return Request<PresenceStateMessage, (string Room, uint? Limit)>("PRESENCE", nameof(room), (room, limit),
            static (output, rid, s) => ClientFrames.Presence(output, rid, s.Room, s.Limit), cancellationToken);
    }

    /// <summary>Counts a room's connections and distinct users.</summary>
    public Task<CountStateMessage> CountAsync(string room, CancellationToken cancellationToken = default)
    {
        CheckName(room, nameof(room));
        return Request<CountStateMessage, string>("COUNT", nameof(room), room, static (output, rid, r) => ClientFrames.Count(output, rid, r), cancellationToken);
    }

    /// <summary>Which of <paramref name="users"/> (at most the server's online_max, 1000 by default) have a live connection anywhere.</summary>
    public async Task<IReadOnlyList<string>> OnlineAsync(IReadOnlyList<string> users, CancellationToken cancellationToken = default)
    {
        if (users is null) throw new ArgumentNullException(nameof(users));
        Wire.OnlineStateMessage state = await Request<Wire.OnlineStateMessage, IReadOnlyList<string>>("ONLINE", nameof(users), users,
            static (output, rid, u) => ClientFrames.Online(output, rid, u), cancellationToken).ConfigureAwait(false);
        return state.Online;
    }

    /// <summary>Sends PING and returns the round-trip time (with <see cref="PresenceClientOptions.WaitForConnection"/>, from the send).</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        long started = 0;
        await Request<Wire.PongMessage, int>("PING", "", 0, (output, rid, _) =>
        {
            started = MonotonicClock.NowMs;
            ClientFrames.Ping(output, rid);
        }, cancellationToken).ConfigureAwait(false);
        return TimeSpan.FromMilliseconds(MonotonicClock.NowMs - started);
    }

    /// <summary>
    /// Raises queued events on the calling thread (for <see cref="EventDispatchMode.Manual"/>); returns how many.
    /// Call it regularly: once <see cref="PresenceClientOptions.MaxPendingEvents"/> wait, the oldest are dropped.
    /// </summary>
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
        _refreshTimer.Change(Timeout.Infinite, Timeout.Infinite);
        if (connection is not null && !connection.IsClosed)
        {
            SendWithoutReply(connection, 0, static (output, _) => ClientFrames.Bye(output));
            await connection.DrainAndShutdownAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            connection.Close();
        }
        _requests.FailAll(new PresenceConnectionException("the client was closed"));
        _timer.Dispose();
        _refreshTimer.Dispose();
        _events.Dispose();
    }

    /// <summary>Same as <see cref="CloseAsync"/>.</summary>
    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);

    /// <summary>Same as <see cref="CloseAsync"/>, blocking.</summary>
    public void Dispose() => CloseAsync().GetAwaiter().GetResult();

    /// <summary>Breaks the connection as a network failure would (no BYE), so reconnects can be exercised.</summary>
    internal void AbortConnection() => _connection?.Close(new System.IO.IOException("connection aborted"));

    private uint SendJoin(ClientConnection connection, RoomSubscription sub, bool since, long deadline, out Task<object> reply)
    {
        string? epoch = since && !string.IsNullOrEmpty(sub.Epoch) ? sub.Epoch : null;
        return Send(connection, "JOIN", "will", (sub, epoch),
            static (output, rid, s) => ClientFrames.Join(output, rid, s.sub.Room, s.sub.Meta, s.sub.Meta is not null, s.epoch, s.sub.Offset, s.sub.Will, s.sub.Will is not null),
            deadline, out reply);
    }

    private void UndoJoin(RoomSubscription sub, bool added, byte[]? previousMeta, byte[]? previousWill)
    {
        if (added)
        {
            RemoveRoom(sub);
            return;
        }
        sub.Meta = previousMeta;
        sub.Will = previousWill;
    }

    private void RemoveRoom(string room)
    {
        lock (_roomsLock)
        {
            if (_rooms.TryRemove(room, out _)) _roomList = _rooms.Values.ToArray();
        }
    }

    /// <summary>Removes <paramref name="sub"/> only if it is still the room's subscription (a newer join may have replaced it).</summary>
    private void RemoveRoom(RoomSubscription sub)
    {
        lock (_roomsLock)
        {
            if (_rooms.TryGetValue(sub.Room, out RoomSubscription? current) && ReferenceEquals(current, sub) && _rooms.TryRemove(sub.Room, out _))
                _roomList = _rooms.Values.ToArray();
        }
    }

    private static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

    // SUPERSEDED: another connection resumed this session with its token; taking it back would start a tug of war.
    private static bool StopsReconnecting(ErrorCode code) =>
        code == ErrorCode.Auth || code == ErrorCode.Version || code == ErrorCode.Protocol || code == ErrorCode.Superseded;
}
