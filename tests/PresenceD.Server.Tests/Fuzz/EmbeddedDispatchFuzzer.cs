using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using PresenceD.Protocol;
using PresenceD.Protocol.Framing;
using PresenceD.Protocol.Messages;
using PresenceD.Server.Connections;
using PresenceD.Server.Dispatch;
using PresenceD.Server.Hosting;
using PresenceD.Server.Sessions;

namespace PresenceD.Server.Tests.Fuzz;

/// <summary>
/// Feeds generated and mutated client byte streams into the real frame reader, request decoder, session and
/// dispatcher (rooms, fan-out, history, the memory backplane) with no socket in the path, as Garnet's embedded
/// benchmarks do: each fuzzed client is a real <see cref="Connection"/> over a socket that is never connected,
/// so its replies and deliveries are queued and then discarded. A bad frame ends the client as the receive
/// path would (the dispatcher's own protocol errors close it the real way). Anything thrown other than
/// <see cref="ProtocolException"/> is a bug and is kept, with the seed and the bytes that caused it.
/// </summary>
internal sealed class EmbeddedDispatchFuzzer(PresenceServer server, int seed)
{
    private const int LiveClients = 16;
    private static readonly string[] Users = ["ann", "bob", "cyd", "dee", "eve"];
    private static readonly string[] Rooms = ["lobby", "r1", "r2", "r3", "chat:x", "a/b", "", "bad room", new string('n', 300)];
    private static readonly byte[] Interesting = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xc9, 0xca, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];

    private readonly Random _random = new(seed);
    private readonly Dispatcher _dispatcher = new(server.Options, server.Connections.Clock, server.Rooms, server.OnlineUsers, server.ConnIds, server.Jwt,
        new LocalResumableSessions(), server.Wheel, server.Logger);
    private readonly FrameBuffer _frames = new(64 * 1024);
    private readonly List<Session> _all = [];
    private readonly Session?[] _live = new Session?[LiveClients];
    private long _nextId = 1_000_000;

    /// <summary>Frames that reached the decoder.</summary>
    public long Frames { get; private set; }

    /// <summary>Frames the decoder accepted and the dispatcher ran.</summary>
    public long Dispatched { get; private set; }

    public long Rejected { get; private set; }

    public List<string> Bugs { get; } = [];

    public IReadOnlyList<Session> AllSessions => _all;

    /// <summary>Runs until <paramref name="duration"/> has passed or 10 bugs were found.</summary>
    public void Run(TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration && Bugs.Count < 10)
        {
            for (int i = 0; i < 64; i++) Step();
            foreach (Session? session in _live) session?.Connection.Outbound.DiscardPending();
            // Now and then the suspended sessions end as their window would (the harness runs no timer wheel), so the
            // resume_max_sessions places free up and suspensions, resumes and refusals all go on.
            if (_random.Next(16) == 0) EndSuspended();
        }
    }

    /// <summary>Ends every client still open, as a client that went away (FIN).</summary>
    public void CloseAll()
    {
        for (int i = 0; i < _live.Length; i++)
        {
            _live[i]?.Connection.RequestClose(CloseReason.ClientClosed);
            _live[i] = null;
        }
    }

    /// <summary>
    /// Ends, as the drain does, the sessions a HELLO with a resume field made resumable and their close suspended: the
    /// harness runs no timer wheel, so their resume_window would never pass.
    /// </summary>
    public int EndSuspended() => _dispatcher.EndSuspendedSessions();

    /// <summary>One chunk of one client's stream: a few frames, some mutated, sometimes cut short.</summary>
    private void Step()
    {
        int slot = _random.Next(LiveClients);
        Session session = _live[slot] ??= NewSession();
        _frames.Clear();
        if (!session.HelloDone && _random.Next(8) != 0) WriteHello();
        int count = _random.Next(1, 12);
        for (int i = 0; i < count; i++) WriteRequest();
        byte[] stream = _frames.WrittenSpan.ToArray();
        if (_random.Next(3) == 0) Mutate(stream);
        if (_random.Next(16) == 0) stream = stream.AsSpan(0, _random.Next(stream.Length + 1)).ToArray();
        if (!Feed(session, stream) || session.Connection.IsClosing)
        {
            session.Connection.RequestClose(CloseReason.ClientClosed); // no-op when the dispatcher closed it already
            _live[slot] = null;
        }
    }

    private Session NewSession()
    {
        var connection = new Connection(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), server.Connections, Interlocked.Increment(ref _nextId), null);
        var session = new Session(connection, _dispatcher);
        // What Connection.Start does, minus the receive loop and the hello timer: the close reaches the session.
        HandlerOf(connection) = session;
        _all.Add(session);
        return session;
    }

    /// <summary>The receive path's loop over one read, without the socket; false when the client must be closed.</summary>
    private bool Feed(Session session, byte[] stream)
    {
        var buffer = new ReadOnlySequence<byte>(stream);
        using SendBatch batch = SendBatch.Open();
        try
        {
            while (!session.Connection.IsClosing)
            {
                ReadOnlySequence<byte> body;
                try
                {
                    if (FrameReader.TryRead(ref buffer, server.Options.Current.MaxFrame, out body) == FrameStatus.NeedMore) return buffer.IsEmpty;
                    Frames++;
                    ClientRequest request = ClientRequestDecoder.Decode(body);
                    ValueTask dispatched = session.OnRequest(ref request, batch);
                    Dispatched++;
                    // The memory backplane answers at once; a wait here would be a cluster path this harness does not drive.
                    if (!dispatched.IsCompletedSuccessfully) dispatched.AsTask().GetAwaiter().GetResult();
                }
                catch (ProtocolException)
                {
                    Rejected++;
                    return false;
                }
            }
            return false;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Bugs.Add($"seed {seed}: {e.GetType().Name}: {e.Message} on {Convert.ToHexString(stream.AsSpan(0, Math.Min(stream.Length, 256)))}\n{e.StackTrace}");
            return false;
        }
        finally
        {
            batch.Forget(); // nothing to send: the sockets are never connected
        }
    }

    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Field, Name = "_handler")]
    private static extern ref IConnectionHandler HandlerOf(Connection connection);

    /// <summary>
    /// HELLO, sometimes resumable: no resume field, "" (a new resumable session), the token a WELCOME gave one of the
    /// fuzzed sessions (live, suspended, resumed or ended; mostly as its own user, sometimes as another), that token
    /// with one character changed, or garbage.
    /// </summary>
    private void WriteHello()
    {
        string user = Pick(Users);
        string? resume = _random.Next(6) switch
        {
            0 or 1 => null,
            2 => "",
            3 or 4 => IssuedToken(ref user),
            _ => Garbled(IssuedToken(ref user)),
        };
        ClientFrames.Hello(_frames, (uint)_random.Next(4), user, _random.Next(4) == 0 ? null : "fuzz", resume: resume,
            features: _random.Next(2) == 0 ? 0 : (uint)_random.Next(1, 4));
    }

    /// <summary>
    /// The resume token WELCOME gave a random fuzzed session (what <see cref="Session.ResumeToken"/> holds), and, three
    /// times in four, that session's user in <paramref name="user"/>; "" when none was resumable yet.
    /// </summary>
    private string IssuedToken(ref string user)
    {
        for (int tries = 0; tries < 8 && _all.Count > 0; tries++)
        {
            Session issued = _all[_random.Next(_all.Count)];
            if (issued.ResumeToken.Length == 0) continue;
            if (_random.Next(4) != 0 && issued.User.Length > 0) user = issued.User;
            return issued.ResumeToken;
        }
        return "";
    }

    /// <summary>A token with one character changed, cut short, or random text (with a dot, as tokens have).</summary>
    private string Garbled(string token) => _random.Next(3) switch
    {
        0 when token.Length > 0 => token.Remove(_random.Next(token.Length), 1).Insert(_random.Next(token.Length), ((char)_random.Next(33, 127)).ToString()),
        1 when token.Length > 0 => token[.._random.Next(token.Length)],
        _ => Convert.ToBase64String(BitConverter.GetBytes(_random.NextInt64())) + "." + Pick(Users),
    };

    /// <summary>What resumable sessions did under the fuzz (suspended, resumed, refused at resume_max_sessions...).</summary>
    public ResumeCounters ResumeCounters => _dispatcher.ResumeCounters;

    private void WriteRequest()
    {
        uint rid = (uint)_random.Next(3);
        string room = _random.Next(8) == 0 ? Pick(Rooms) : Pick(Rooms, 4);
        byte[] bytes = new byte[_random.Next(0, 64)];
        _random.NextBytes(bytes);
        switch (_random.Next(13))
        {
            case 0: ClientFrames.Join(_frames, rid, room, bytes, hasMeta: _random.Next(2) == 0); break;
            case 1: ClientFrames.Leave(_frames, rid, room); break;
            case 2:
            case 3: ClientFrames.Publish(_frames, rid, room, bytes); break;
            case 4: ClientFrames.Update(_frames, rid, room, bytes, hasMeta: _random.Next(2) == 0); break;
            case 5: ClientFrames.Presence(_frames, rid, room, _random.Next(2) == 0 ? null : (uint)_random.Next(5)); break;
            case 6: ClientFrames.Count(_frames, rid, room); break;
            case 7: ClientFrames.Ping(_frames, rid); break;
            case 8: ClientFrames.Online(_frames, rid, [Pick(Users), Pick(Users)]); break;
            case 9: if (_random.Next(8) == 0) ClientFrames.Bye(_frames); else ClientFrames.Join(_frames, rid, room); break;
            case 10: WriteHello(); break; // HELLO repeated: a protocol error
            case 11: ClientFrames.Refresh(_frames, rid, _random.Next(2) == 0 ? Pick(Users) : "a.b.c"); break; // auth none: BAD_REQUEST
            default: WriteGarbage(bytes); break;
        }
    }

    /// <summary>A frame whose body is random bytes (sometimes starting with an array header and an opcode).</summary>
    private void WriteGarbage(byte[] bytes)
    {
        if (bytes.Length > 1 && _random.Next(2) == 0)
        {
            bytes[0] = (byte)(0x90 | _random.Next(8));
            bytes[1] = (byte)_random.Next(13);
        }
        Span<byte> prefix = stackalloc byte[ProtocolConstants.LengthPrefixSize];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)bytes.Length);
        _frames.Write(prefix);
        _frames.Write(bytes);
    }

    private void Mutate(byte[] stream)
    {
        int edits = _random.Next(1, 4);
        for (int i = 0; i < edits && stream.Length > 0; i++)
        {
            int at = _random.Next(stream.Length);
            stream[at] = _random.Next(3) switch
            {
                0 => (byte)(stream[at] ^ (1 << _random.Next(8))),
                1 => Interesting[_random.Next(Interesting.Length)],
                _ => (byte)_random.Next(256),
            };
        }
    }

    private string Pick(string[] from, int firstN = int.MaxValue) => from[_random.Next(Math.Min(from.Length, firstN))];
}
