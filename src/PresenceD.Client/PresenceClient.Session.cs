using System;
using System.Buffers;
using System.Collections.Generic;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using PresenceD.Client.Internal;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;
using Wire = PresenceD.Protocol.Messages;

namespace PresenceD.Client;

// The session side: the first connect (and its retries), HELLO, the receive loop's frame handling, heartbeats,
// and reconnects.
public sealed partial class PresenceClient : IFrameHandler
{
    private readonly Random _random = new Random();

    /// <summary>
    /// The first connect: one attempt, or with <see cref="PresenceClientOptions.RetryFirstConnect"/> attempts with the
    /// back-off until one is welcomed, the server refuses the HELLO, or the caller or <see cref="CloseAsync"/> cancels.
    /// </summary>
    private async Task<WelcomeMessage> FirstConnectAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await OpenSessionAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (_options.RetryFirstConnect && !stop.IsCancellationRequested && IsWorthRetrying(e))
            {
                Wire.GoAwayMessage? goAway = _goAway;
                TimeSpan serverMinimum = TimeSpan.FromMilliseconds(Math.Max(0, goAway?.ReconnectMs ?? 0));
                await Task.Delay(_options.Backoff.Delay(attempt, NextRandom(), serverMinimum), stop.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Unreachable, timed out, or turned away for a while (GOAWAY LIMIT, SHUTDOWN): worth another try. A refused HELLO or a refused TLS certificate is not.</summary>
    private static bool IsWorthRetrying(Exception e) =>
        e is TimeoutException || (e is PresenceConnectionException lost && !StopsReconnecting(lost.GoAwayCode));

    private double NextRandom()
    {
        lock (_random) return _random.NextDouble();
    }

    private async Task<WelcomeMessage> OpenSessionAsync(CancellationToken cancellationToken)
    {
        string? credential = await HelloCredentialAsync(cancellationToken).ConfigureAwait(false);
        ClientConnection connection;
        try
        {
            connection = await ClientConnection.OpenAsync(_options.Host, _options.Port, _options.ConnectTimeout, this, _options.Resolve,
                    TlsHandshake.For(_options), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw DescribeConnectFailure(_options.Host, _options.Port, e);
        }
        _goAway = null;
        _connection = connection;
        uint rid = _requests.Register(MonotonicClock.NowMs + (long)_options.ConnectTimeout.TotalMilliseconds, "HELLO", out Task<object> reply);
        FrameBuffer output = connection.BeginWrite();
        try
        {
            // resume: null asks for nothing, "" for a resumable session, a token to resume the last one.
            string? resume = _options.Resumable ? _resumeToken ?? "" : null;
            ClientFrames.Hello(output, rid, credential, _options.ClientName, resume: resume, features: Protocol.ProtocolFeatures.Refresh);
        }
        finally
        {
            connection.EndWrite();
        }
        _timer.Change(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
        try
        {
            WelcomeMessage welcome = await AwaitReply<WelcomeMessage>(rid, reply, cancellationToken).ConfigureAwait(false);
            UseToken(credential);
            return welcome;
        }
        catch
        {
            connection.Close();
            throw;
        }
    }

    void IFrameHandler.OnFrame(ClientConnection connection, in ReadOnlySequence<byte> body)
    {
        if (!ReferenceEquals(connection, _connection)) return;
        if (ServerMessageDecoder.TryReadMessage(body, out MessageView view))
        {
            OnMessage(view);
            return;
        }
        // Replies that reach the application are turned into its types here, once; the rest complete as decoded.
        ServerMessage message = ServerMessageDecoder.Decode(body);
        switch (message)
        {
            case Wire.WelcomeMessage welcome:
                _welcome = WireTypes.Welcome(welcome);
                _resumeToken = welcome.ResumeToken.Length > 0 ? welcome.ResumeToken : null;
                var heartbeat = new HeartbeatPolicy(welcome.HeartbeatMs, welcome.TimeoutMs);
                _heartbeat = heartbeat;
                _timer.Change(heartbeat.TickInterval, heartbeat.TickInterval);
                _requests.Complete(welcome.Rid, _welcome);
                break;
            case Wire.JoinedMessage joined:
                // A JOINED nobody waits for answers a join that was cancelled or timed out: its LEAVE follows.
                if (!_requests.IsPending(joined.Rid)) break;
                JoinedMessage result = WireTypes.Joined(joined);
                OnJoined(result);
                _requests.Complete(joined.Rid, result);
                break;
            case Wire.PresenceDiffMessage diff:
                if (_rooms.TryGetValue(diff.Room, out RoomSubscription? sub))
                    PostPresence(sub.Presence.ApplyDiff(WireTypes.Members(diff.Joins), WireTypes.Members(diff.Leaves)));
                break;
            case Wire.GoAwayMessage goAway:
                _goAway = goAway;
                break;
            case Wire.OkMessage ok:
                _requests.Complete(ok.Rid, ok);
                break;
            case Wire.ErrorMessage error:
                _requests.Complete(error.Rid, error);
                break;
            case Wire.PresenceStateMessage state:
                _requests.Complete(state.Rid, WireTypes.PresenceState(state));
                break;
            case Wire.CountStateMessage count:
                _requests.Complete(count.Rid, WireTypes.CountState(count));
                break;
            case Wire.OnlineStateMessage online:
                _requests.Complete(online.Rid, online);
                break;
            case Wire.PongMessage pong:
                _requests.Complete(pong.Rid, pong);
                break;
            case Wire.RefreshedMessage refreshed:
                _requests.Complete(refreshed.Rid, refreshed);
                break;
        }
    }

    void IFrameHandler.OnClosed(ClientConnection connection, Exception? error)
    {
        if (Interlocked.CompareExchange(ref _connection, null, connection) != connection) return;
        Wire.GoAwayMessage? goAway = _goAway;
        ErrorCode goAwayCode = goAway is null ? ErrorCode.None : WireTypes.Code(goAway.Code);
        string why = goAway is not null ? $"server sent GOAWAY {goAwayCode}: {goAway.Text}"
            : error is not null ? $"connection lost: {error.Message}"
            : "the server closed the connection";
        var reason = new PresenceConnectionException(why, goAwayCode, goAway?.Text ?? "", error);
        _requests.FailAll(reason);
        ArmRefresh(Timeout.Infinite); // the next WELCOME arms it for the token its HELLO sent
        bool reconnect;
        lock (_stateLock)
        {
            if (_state != ConnectionState.Connected) return;
            reconnect = _options.AutoReconnect && !StopsReconnectingAfterGoAway(goAwayCode);
        }
        if (!reconnect)
        {
            SetState(ConnectionState.Disconnected, reason);
            return;
        }
        SetState(ConnectionState.Reconnecting, reason);
        TimeSpan serverMinimum = TimeSpan.FromMilliseconds(Math.Max(0, goAway?.ReconnectMs ?? 0));
        _ = Task.Run(() => ReconnectLoopAsync(serverMinimum));
    }

    private void OnMessage(in MessageView view)
    {
        RoomSubscription? sub = FindRoom(view.Room);
        if (sub is not null && view.Offset > 0) sub.Offset = view.Offset;
        if (MessageReceived is null) return;
        string room = sub?.Room ?? Utf8.GetString(view.Room);
        _events.Post(new RoomMessageEventArgs(room, Utf8.GetString(view.FromUser), Utf8.GetString(view.FromConn),
            view.Payload.ToArray(), view.Offset));
    }

    private void OnJoined(JoinedMessage joined)
    {
        if (!_rooms.TryGetValue(joined.Room, out RoomSubscription? sub)) return;
        // A recovered JOINED is followed by the missed messages, which advance the offset themselves.
        if (!joined.Recovered || sub.Epoch != joined.Epoch) sub.Offset = joined.Offset;
        sub.Epoch = joined.Epoch;
        PostPresence(sub.Presence.ApplySnapshot(joined.Members, joined.Total));
    }

    private void PostPresence(PresenceChangedEventArgs change)
    {
        if (change.IsEmpty && !change.IsSnapshot) return;
        _events.Post(change);
        foreach (string user in change.UsersOffline) _events.Post(new UserPresenceEventArgs(change.Room, user, online: false));
        foreach (string user in change.UsersOnline) _events.Post(new UserPresenceEventArgs(change.Room, user, online: true));
    }

    private RoomSubscription? FindRoom(in ReadOnlySequence<byte> roomUtf8)
    {
        ReadOnlySpan<byte> name = roomUtf8.IsSingleSegment ? roomUtf8.First.Span : roomUtf8.ToArray();
        RoomSubscription[] rooms = _roomList;
        for (int i = 0; i < rooms.Length; i++)
            if (name.SequenceEqual(rooms[i].RoomUtf8)) return rooms[i];
        return null;
    }

    private void OnTick()
    {
        if (Interlocked.Exchange(ref _ticking, 1) == 1) return;
        try
        {
            long now = MonotonicClock.NowMs;
            _requests.Expire(now);
            ClientConnection? connection = _connection;
            HeartbeatPolicy? heartbeat = _heartbeat;
            if (connection is null || heartbeat is null || connection.IsClosed) return;
            if (heartbeat.IsServerSilent(now, connection.LastReceivedMs))
            {
                connection.Close(new TimeoutException($"nothing heard from the server for {heartbeat.TimeoutMs} ms"));
                return;
            }
            if (!heartbeat.ShouldPing(now, connection.LastSentMs)) return;
            FrameBuffer output = connection.BeginWrite();
            try
            {
                ClientFrames.Ping(output, 0);
            }
            finally
            {
                connection.EndWrite();
            }
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    /// <summary>
    /// The rooms a resume left (WELCOME's left: the new token does not allow them): dropped here too, each reported as a
    /// re-join that failed with FORBIDDEN, as a reconnect that could not resume would report it.
    /// </summary>
    private List<RoomRejoinedEventArgs> LeftOnResume(WelcomeMessage welcome)
    {
        var left = new List<RoomRejoinedEventArgs>();
        foreach (string room in welcome.LeftRooms ?? Array.Empty<string>())
        {
            RemoveRoom(room);
            left.Add(new RoomRejoinedEventArgs(room, false, "", 0,
                new PresenceRequestException(ErrorCode.Forbidden, "the token of the resuming HELLO does not allow this room: the session left it")));
        }
        return left;
    }

    private async Task ReconnectLoopAsync(TimeSpan serverMinimum)
    {
        for (int attempt = 0; !_lifetime.IsCancellationRequested; attempt++)
        {
            try
            {
                await Task.Delay(_options.Backoff.Delay(attempt, NextRandom(), serverMinimum), _lifetime.Token).ConfigureAwait(false);
                WelcomeMessage welcome = await OpenSessionAsync(_lifetime.Token).ConfigureAwait(false);
                // Resumed: the server kept the rooms (and the models here are still exact) but those the new token no
                // longer allows, reported as failed re-joins; the held frames follow.
                List<RoomRejoinedEventArgs> rejoined = welcome.Resumed ? LeftOnResume(welcome) : await RejoinRoomsAsync().ConfigureAwait(false);
                lock (_stateLock)
                {
                    if (_state != ConnectionState.Reconnecting) return;
                }
                foreach (RoomRejoinedEventArgs room in rejoined) _events.Post(room);
                SetState(ConnectionState.Connected, null, welcome.Resumed);
                return;
            }
            catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
            {
                return;
            }
            catch (PresenceRequestException e) when (StopsReconnecting(e.Code))
            {
                SetState(ConnectionState.Disconnected, e);
                return;
            }
            catch (PresenceTlsException e)
            {
                SetState(ConnectionState.Disconnected, e); // the same certificate would be refused again
                return;
            }
            catch (Exception)
            {
                _connection?.Close();
                Wire.GoAwayMessage? goAway = _goAway;
                ErrorCode code = goAway is null ? ErrorCode.None : WireTypes.Code(goAway.Code);
                if (StopsReconnecting(code))
                {
                    SetState(ConnectionState.Disconnected, new PresenceConnectionException($"server sent GOAWAY {code}: {goAway!.Text}", code, goAway.Text));
                    return;
                }
                serverMinimum = TimeSpan.FromMilliseconds(Math.Max(0, goAway?.ReconnectMs ?? 0));
            }
        }
    }

    private async Task<List<RoomRejoinedEventArgs>> RejoinRoomsAsync()
    {
        ClientConnection connection = _connection ?? throw new PresenceConnectionException("connection lost while re-joining");
        RoomSubscription[] rooms = _roomList;
        long deadline = Deadline();
        var joins = new Task<JoinedMessage>[rooms.Length];
        for (int i = 0; i < rooms.Length; i++)
        {
            uint rid = SendJoin(connection, rooms[i], since: true, deadline, out Task<object> reply);
            joins[i] = AwaitReply<JoinedMessage>(rid, reply, CancellationToken.None);
        }
        var results = new List<RoomRejoinedEventArgs>(rooms.Length);
        for (int i = 0; i < rooms.Length; i++)
        {
            try
            {
                JoinedMessage joined = await joins[i].ConfigureAwait(false);
                if (!_rooms.TryGetValue(rooms[i].Room, out RoomSubscription? current) || !ReferenceEquals(current, rooms[i]))
                {
                    // Left (or a failed JoinAsync dropped it) while the re-join was on its way: undo it on the server too.
                    SendWithoutReply(connection, rooms[i].Room, static (output, r) => ClientFrames.Leave(output, 0, r));
                    continue;
                }
                results.Add(new RoomRejoinedEventArgs(rooms[i].Room, joined.Recovered, joined.Epoch, joined.Offset, null));
            }
            catch (PresenceRequestException e)
            {
                RemoveRoom(rooms[i].Room);
                results.Add(new RoomRejoinedEventArgs(rooms[i].Room, false, "", 0, e));
            }
        }
        return results;
    }

    private void SetState(ConnectionState state, Exception? reason, bool resumed = false)
    {
        ConnectionState previous;
        TaskCompletionSource<bool> changed;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == state || previous == ConnectionState.Closed) return;
            _state = state;
            changed = _stateChanged;
            _stateChanged = NewSignal();
        }
        changed.TrySetResult(true); // wakes the requests waiting for a connection (WaitForConnection)
        _events.Post(new ConnectionStateChangedEventArgs(previous, state, reason, resumed));
    }

    private static Exception DescribeConnectFailure(string host, int port, Exception error) => error switch
    {
        SocketException socket => new PresenceConnectionException($"cannot connect to {host}:{port}: {socket.Message}", socket),
        TimeoutException timeout => new PresenceConnectionException(timeout.Message, timeout),
        System.IO.IOException io => new PresenceConnectionException($"connection to {host}:{port} lost during the TLS handshake: {io.Message}", io),
        _ => error,
    };

    private void Raise(EventArgs args)
    {
        switch (args)
        {
            case RoomMessageEventArgs message:
                MessageReceived?.Invoke(this, message);
                break;
            case PresenceChangedEventArgs presence:
                PresenceChanged?.Invoke(this, presence);
                break;
            case UserPresenceEventArgs user:
                UserPresenceChanged?.Invoke(this, user);
                break;
            case RoomRejoinedEventArgs rejoined:
                RoomRejoined?.Invoke(this, rejoined);
                break;
            case ConnectionStateChangedEventArgs state:
                StateChanged?.Invoke(this, state);
                break;
            case TokenRefreshedEventArgs refreshed:
                TokenRefreshed?.Invoke(this, refreshed);
                break;
            case TokenRefreshFailedEventArgs failed:
                TokenRefreshFailed?.Invoke(this, failed);
                break;
        }
    }
}
