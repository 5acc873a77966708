using System;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using PresenceD.Client.Internal;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;

namespace PresenceD.Client;

// The request side: waiting for a connection, the local size checks, encoding under the connection's write lock,
// and awaiting the typed reply. Every request's deadline starts at the call, so the wait for a connection
// (WaitForConnection) and the wait for the reply share one RequestTimeout.
public sealed partial class PresenceClient
{
    /// <summary>Waits for a connection if need be, registers a request, encodes it, and awaits its typed reply.</summary>
    private async Task<T> Request<T, TState>(string op, string paramName, TState state, Action<FrameBuffer, uint, TState> encode,
        CancellationToken cancellationToken) where T : class
    {
        cancellationToken.ThrowIfCancellationRequested();
        long deadline = Deadline();
        ClientConnection connection = await AcquireConnectionAsync(op, deadline, cancellationToken).ConfigureAwait(false);
        uint rid = Send(connection, op, paramName, state, encode, deadline, out Task<object> reply);
        return await AwaitReply<T>(rid, reply, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Registers a request and queues its frame; a frame over max_frame is not queued and throws.</summary>
    private uint Send<TState>(ClientConnection connection, string op, string paramName, TState state, Action<FrameBuffer, uint, TState> encode,
        long deadline, out Task<object> reply)
    {
        uint rid = _requests.Register(deadline, op, out reply);
        FrameBuffer output = connection.BeginWrite();
        int start = output.WrittenCount;
        try
        {
            encode(output, rid, state);
            CheckFrame(output, start, paramName);
        }
        catch
        {
            output.Truncate(start);
            _requests.Forget(rid);
            throw;
        }
        finally
        {
            connection.EndWrite();
        }
        // A connection that closed before the frame was queued has already failed its requests: fail this one too.
        if (connection.IsClosed) _requests.Fail(rid, new PresenceConnectionException($"{op}: the connection was lost"));
        return rid;
    }

    /// <summary>Queues a frame that has no reply (LEAVE rid 0, BYE) on <paramref name="connection"/> if it is still open.</summary>
    private static void SendWithoutReply<TState>(ClientConnection connection, TState state, Action<FrameBuffer, TState> encode)
    {
        if (connection.IsClosed) return;
        FrameBuffer output = connection.BeginWrite();
        try
        {
            encode(output, state);
        }
        finally
        {
            connection.EndWrite();
        }
    }

    private async Task<T> AwaitReply<T>(uint rid, Task<object> reply, CancellationToken cancellationToken) where T : class
    {
        object message;
        if (cancellationToken.CanBeCanceled)
        {
            using (cancellationToken.Register(() => _requests.Fail(rid, new OperationCanceledException(cancellationToken))))
                message = await reply.ConfigureAwait(false);
        }
        else
        {
            message = await reply.ConfigureAwait(false);
        }
        return message as T ?? throw new ProtocolException($"expected {typeof(T).Name} for rid {rid}, got {message.GetType().Name}");
    }

    /// <summary>
    /// The connection to send on. While connecting or reconnecting, with <see cref="PresenceClientOptions.WaitForConnection"/>,
    /// waits for it until <paramref name="deadline"/> (<see cref="TimeoutException"/>); otherwise, or once the client
    /// has given up or is closed, throws <see cref="PresenceConnectionException"/>.
    /// </summary>
    private async ValueTask<ClientConnection> AcquireConnectionAsync(string op, long deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            ConnectionState state;
            lock (_stateLock)
            {
                state = _state;
                ClientConnection? connection = _connection;
                if (state == ConnectionState.Connected && connection is not null && !connection.IsClosed) return connection;
                if (!_options.WaitForConnection || state == ConnectionState.Disconnected || state == ConnectionState.Closed)
                    throw new PresenceConnectionException($"not connected (state {state})");
                changed = _stateChanged.Task;
            }
            long left = deadline - MonotonicClock.NowMs;
            if (left <= 0) throw new TimeoutException($"{op}: no connection within the request timeout ({_options.RequestTimeout.TotalSeconds:0.###} s; state {state})");
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                await Task.WhenAny(changed, Task.Delay(TimeSpan.FromMilliseconds(left), wait.Token)).ConfigureAwait(false);
                wait.Cancel();
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The open connection when connected; null otherwise (never waits).</summary>
    private ClientConnection? CurrentConnection()
    {
        lock (_stateLock)
        {
            ClientConnection? connection = _connection;
            return _state == ConnectionState.Connected && connection is not null && !connection.IsClosed ? connection : null;
        }
    }

    private long Deadline() => MonotonicClock.NowMs + (long)_options.RequestTimeout.TotalMilliseconds;

    /// <summary>WELCOME's max_frame (the protocol's default before the first WELCOME).</summary>
    private long MaxFrame => _welcome?.MaxFrame ?? ProtocolConstants.DefaultMaxFrame;

    private void CheckName(string value, string paramName)
    {
        // Emptiness and bad characters stay the server's to judge (BAD_REQUEST, and the connection stays open).
        if (value is null) throw new ArgumentNullException(paramName);
        int max = _options.NameMax;
        if (max <= 0 || value.Length * 3L <= max) return; // UTF-8 takes at most 3 bytes per UTF-16 char
        int bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes > max) throw new PresenceTooLargeException(paramName, "name_max", max, bytes);
    }

    private void CheckMeta(byte[]? meta, string paramName)
    {
        int max = _options.MetaMax;
        if (meta is not null && max > 0 && meta.Length > max) throw new PresenceTooLargeException(paramName, "meta_max", max, meta.Length);
    }

    /// <summary>A payload already over max_frame is refused before it is copied into the send buffer.</summary>
    private void CheckPayload(int length, string paramName)
    {
        long max = MaxFrame;
        if (length > max) throw new PresenceTooLargeException(paramName, "max_frame", max, length);
    }

    /// <summary>Checks the frame just encoded at <paramref name="start"/>: its body must fit in max_frame, or the server would close the connection.</summary>
    private void CheckFrame(FrameBuffer output, int start, string paramName)
    {
        long body = output.WrittenCount - start - ProtocolConstants.LengthPrefixSize;
        long max = MaxFrame;
        if (body > max) throw new PresenceTooLargeException(paramName, "max_frame", max, body);
    }
}
