using System;
using System.Buffers;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using PresenceD.Client.Internal;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.MessagePack;
using PresenceD.Protocol.Messages;

namespace PresenceD.Client;

// The session side: HELLO, the receive loop's frame handling, heartbeats, and reconnects.
public sealed partial class PresenceClient : IFrameHandler
{
    private readonly Random _random = new Random();

    private async Task<WelcomeMessage> OpenSessionAsync(CancellationToken cancellationToken)
    {
        ClientConnection connection;
        try
        {
            connection = await ClientConnection.OpenAsync(_options.Host, _options.Port, _options.ConnectTimeout, this, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw DescribeConnectFailure(_options.Host, _options.Port, e);
        }
        _goAway = null;
        _connection = connection;
        uint rid = _requests.Register(MonotonicClock.NowMs + (long)_options.ConnectTimeout.TotalMilliseconds, "HELLO", out Task<ServerMessage> reply);
        FrameBuffer output = connection.BeginWrite();
        try
        {
            ClientFrames.Hello(output, rid, _options.Credential, _options.ClientName);
        }
        finally
        {
            connection.EndWrite();
        }
        _timer.Change(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
        try
        {
            return await AwaitReply<WelcomeMessage>(rid, reply, cancellationToken).ConfigureAwait(false);
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
        ServerMessage message = ServerMessageDecoder.Decode(body);
        switch (message)
        {
            case WelcomeMessage welcome:
                _welcome = welcome;
                var heartbeat = new HeartbeatPolicy(welcome.HeartbeatMs, welcome.TimeoutMs);
                _heartbeat = heartbeat;
                _timer.Change(heartbeat.TickInterval, heartbeat.TickInterval);
                _requests.Complete(welcome.Rid, welcome);
                break;
            case JoinedMessage joined:
                OnJoined(joined);
                _requests.Complete(joined.Rid, joined);
                break;
            case PresenceDiffMessage diff:
                if (_rooms.TryGetValue(diff.Room, out RoomSubscription? sub)) PostPresence(sub.Presence.ApplyDiff(diff.Joins, diff.Leaves));
                break;
            case GoAwayMessage goAway:
                _goAway = goAway;
                break;
            case OkMessage ok:
                _requests.Complete(ok.Rid, ok);
                break;
            case ErrorMessage error:
                _requests.Complete(error.Rid, error);
                break;
            case PresenceStateMessage state:
                _requests.Complete(state.Rid, state);
                break;
            case CountStateMessage count:
                _requests.Complete(count.Rid, count);
                break;
            case OnlineStateMessage online:
                _requests.Complete(online.Rid, online);
                break;
            case PongMessage pong:
                _requests.Complete(pong.Rid, pong);
                break;
        }
    }

    void IFrameHandler.OnClosed(ClientConnection connection, Exception? error)
    {
        if (Interlocked.CompareExchange(ref _connection, null, connection) != connection) return;
        GoAwayMessage? goAway = _goAway;
        string why = goAway is not null ? $"server sent GOAWAY {goAway.Code}: {goAway.Text}"
            : error is not null ? $"connection lost: {error.Message}"
            : "the server closed the connection";
        var reason = new PresenceConnectionException(why, goAway?.Code ?? ErrorCode.None, goAway?.Text ?? "", error);
        _requests.FailAll(reason);
        bool reconnect;
        lock (_stateLock)
        {
            if (_state != ConnectionState.Connected) return;
            reconnect = _options.AutoReconnect && !(goAway is not null && StopsReconnecting(goAway.Code));
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

    private async Task ReconnectLoopAsync(TimeSpan serverMinimum)
    {
        for (int attempt = 0; !_lifetime.IsCancellationRequested; attempt++)
        {
            double random;
            lock (_random) random = _random.NextDouble();
            try
            {
                await Task.Delay(_options.Backoff.Delay(attempt, random, serverMinimum), _lifetime.Token).ConfigureAwait(false);
                await OpenSessionAsync(_lifetime.Token).ConfigureAwait(false);
                List<RoomRejoinedEventArgs> rejoined = await RejoinRoomsAsync().ConfigureAwait(false);
                lock (_stateLock)
                {
                    if (_state != ConnectionState.Reconnecting) return;
                }
                foreach (RoomRejoinedEventArgs room in rejoined) _events.Post(room);
                SetState(ConnectionState.Connected, null);
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
            catch (Exception)
            {
                _connection?.Close();
                GoAwayMessage? goAway = _goAway;
                if (goAway is not null && StopsReconnecting(goAway.Code))
                {
                    SetState(ConnectionState.Disconnected, new PresenceConnectionException($"server sent GOAWAY {goAway.Code}: {goAway.Text}", goAway.Code, goAway.Text));
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
        var joins = new Task<JoinedMessage>[rooms.Length];
        for (int i = 0; i < rooms.Length; i++) joins[i] = SendJoin(connection, rooms[i], since: true, CancellationToken.None);
        var results = new List<RoomRejoinedEventArgs>(rooms.Length);
        for (int i = 0; i < rooms.Length; i++)
        {
            try
            {
                JoinedMessage joined = await joins[i].ConfigureAwait(false);
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

    private void SetState(ConnectionState state, Exception? reason)
    {
        ConnectionState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == state || previous == ConnectionState.Closed) return;
            _state = state;
        }
        _events.Post(new ConnectionStateChangedEventArgs(previous, state, reason));
    }

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
        }
    }
}
