using System.CommandLine;
using System.Text;
using PresenceD.Client;

namespace PresenceD.Cli;

/// <summary>
/// presence-cli: hello, join, publish, tail, presence, count, online against a PresenceD server; token mints a
/// development JWT.
/// Global flags: --server host:port, --token, --json, --timeout, --tls, --ca-file, --insecure. See <see cref="ExitCodes"/>.
/// </summary>
internal static class CliApp
{
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellation = default)
    {
        RootCommand root = Build(output, error);
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellation);
    }

    private static RootCommand Build(TextWriter output, TextWriter error)
    {
        var server = new Option<string>("--server") { Description = "Server address host:port", DefaultValueFactory = _ => "127.0.0.1:7400", Recursive = true };
        var token = new Option<string?>("--token")
        {
            Description = "HELLO credential: a JWT, or the user id when the server runs with auth none (default: $PRESENCED_TOKEN, else presence-cli)",
            Recursive = true,
        };
        var json = new Option<bool>("--json") { Description = "One JSON object per line on stdout", Recursive = true };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the connection and each reply", DefaultValueFactory = _ => 5, Recursive = true };
        var tls = new Option<bool>("--tls") { Description = "Speak TLS (the server has tls on or optional); SNI and the certificate's name are the --server host", Recursive = true };
        var caFile = new Option<string?>("--ca-file") { Description = "With --tls: trust only the CA certificates of this PEM file (default: the system's roots)", Recursive = true };
        var insecure = new Option<bool>("--insecure") { Description = "With --tls: accept any certificate (tests only: anyone in between can read and change the traffic)", Recursive = true };

        var room = new Argument<string>("room") { Description = "Room name" };
        var meta = new Option<string?>("--meta") { Description = "Member meta (UTF-8 text)" };
        var join = new Command("join", "Join a room and print its members, then leave") { room, meta };

        var publishRoom = new Argument<string>("room") { Description = "Room name" };
        var message = new Argument<string>("message") { Description = "Payload (UTF-8 text)" };
        var repeat = new Option<int>("--count") { Description = "Publish the message this many times", DefaultValueFactory = _ => 1 };
        var publish = new Command("publish", "Join a room, publish a message (each acknowledged), leave") { publishRoom, message, repeat };

        var tailRooms = new Argument<string[]>("rooms") { Description = "Rooms to follow", Arity = ArgumentArity.OneOrMore };
        var tailCount = new Option<int>("--count") { Description = "Exit after this many messages (0 = run until interrupted)" };
        var tailFor = new Option<double>("--for") { Description = "Exit after this many seconds (0 = run until interrupted)" };
        var tail = new Command("tail", "Join rooms and print messages and presence changes as they arrive") { tailRooms, tailCount, tailFor };

        var presenceRoom = new Argument<string>("room") { Description = "Room name" };
        var limit = new Option<uint?>("--limit") { Description = "List at most this many members" };
        var presence = new Command("presence", "Who is in a room (no need to join)") { presenceRoom, limit };

        var countRoom = new Argument<string>("room") { Description = "Room name" };
        var count = new Command("count", "How many connections and users a room has") { countRoom };

        var users = new Argument<string[]>("users") { Description = "User ids", Arity = ArgumentArity.OneOrMore };
        var online = new Command("online", "Which of these users are online anywhere") { users };

        var hello = new Command("hello", "Connect, print the server's WELCOME, disconnect");

        var sub = new Option<string>("--sub") { Description = "The user id (the token's sub)", Required = true };
        var rooms = new Option<string[]>("--rooms") { Description = "Room patterns the user may join (e.g. 'game:*'); repeat or list several", AllowMultipleArgumentsPerToken = true };
        var ttl = new Option<string>("--ttl") { Description = "Lifetime: 90s, 30m, 1h, 7d", DefaultValueFactory = _ => "1h" };
        var secretFile = new Option<string?>("--secret-file") { Description = "HS256: the daemon's jwt_secret_file" };
        var keyFile = new Option<string?>("--key-file") { Description = "RS256 or ES256 (from the key type): a PEM private key whose public key is in the daemon's jwt_public_key_file" };
        var kid = new Option<string?>("--kid") { Description = "A kid header naming the key (a JWKS key id)" };
        var mint = new Command("token", "Print a JWT for development (HS256 with --secret-file, RS256/ES256 with --key-file)") { sub, rooms, ttl, secretFile, keyFile, kid };

        var root = new RootCommand("presence-cli: operator tool for PresenceD") { server, token, json, timeout, tls, caFile, insecure };
        foreach (Command command in new[] { hello, join, publish, tail, presence, count, online, mint }) root.Subcommands.Add(command);

        Session Open(ParseResult p) => new(p.GetValue(server)!, p.GetValue(token), p.GetValue(timeout),
            new TlsFlags(p.GetValue(tls), p.GetValue(caFile), p.GetValue(insecure)), new CliOutput(output, error, p.GetValue(json)));

        hello.SetAction((p, ct) => Open(p).RunAsync(reconnect: false, (client, o) =>
        {
            o.Welcome(client.Welcome!);
            return Task.FromResult(ExitCodes.Ok);
        }, ct));
        join.SetAction((p, ct) => Open(p).RunAsync(reconnect: false, async (client, o) =>
        {
            string? text = p.GetValue(meta);
            o.Joined(await client.JoinAsync(p.GetValue(room)!, text is null ? null : Encoding.UTF8.GetBytes(text), cancellationToken: ct));
            return ExitCodes.Ok;
        }, ct));
        publish.SetAction((p, ct) => Open(p).RunAsync(reconnect: false, async (client, o) =>
        {
            string name = p.GetValue(publishRoom)!;
            byte[] payload = Encoding.UTF8.GetBytes(p.GetValue(message)!);
            int times = Math.Max(1, p.GetValue(repeat));
            await client.JoinAsync(name, cancellationToken: ct);
            for (int i = 0; i < times; i++) await client.PublishAsync(name, payload, ct);
            o.Published(name, times);
            return ExitCodes.Ok;
        }, ct));
        tail.SetAction((p, ct) => Open(p).RunAsync(reconnect: true, (client, o) =>
            TailAsync(client, o, p.GetValue(tailRooms)!, p.GetValue(tailCount), p.GetValue(tailFor), ct), ct));
        presence.SetAction((p, ct) => Open(p).RunAsync(reconnect: false, async (client, o) =>
        {
            o.Presence(await client.PresenceAsync(p.GetValue(presenceRoom)!, p.GetValue(limit), ct));
            return ExitCodes.Ok;
        }, ct));
        count.SetAction((p, ct) => Open(p).RunAsync(reconnect: false, async (client, o) =>
        {
            o.Count(await client.CountAsync(p.GetValue(countRoom)!, ct));
            return ExitCodes.Ok;
        }, ct));
        online.SetAction((p, ct) => Open(p).RunAsync(reconnect: false, async (client, o) =>
        {
            string[] asked = p.GetValue(users)!;
            o.Online(asked, await client.OnlineAsync(asked, ct));
            return ExitCodes.Ok;
        }, ct));
        mint.SetAction(p =>
        {
            try
            {
                output.WriteLine(TokenMinter.Mint(p.GetValue(sub)!, p.GetValue(rooms) ?? [], TokenMinter.ParseTtl(p.GetValue(ttl)!),
                    p.GetValue(secretFile), p.GetValue(keyFile), p.GetValue(kid), DateTimeOffset.UtcNow));
                return ExitCodes.Ok;
            }
            catch (ArgumentException e)
            {
                error.WriteLine("presence-cli token: " + e.Message);
                return ExitCodes.Usage;
            }
        });
        return root;
    }

    private static async Task<int> TailAsync(PresenceClient client, CliOutput output, string[] rooms, int maxMessages, double seconds, CancellationToken cancellation)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        int received = 0;
        client.MessageReceived += (_, m) =>
        {
            output.Message(m);
            if (maxMessages > 0 && Interlocked.Increment(ref received) >= maxMessages) done.TrySetResult(ExitCodes.Ok);
        };
        client.PresenceChanged += (_, d) => output.Diff(d);
        client.RoomRejoined += (_, r) => output.Notice(r.Error is null
            ? $"re-joined {r.Room} ({(r.Recovered ? "recovered: no message lost" : "not recovered: messages may have been missed")})"
            : $"could not re-join {r.Room}: {r.Error.Message}");
        client.StateChanged += (_, s) =>
        {
            if (s.Current == ConnectionState.Reconnecting) output.Notice($"connection lost ({s.Reason?.Message}); reconnecting");
            // Given up (GOAWAY AUTH on token expiry, VERSION, PROTOCOL, or no reconnects): Session reports why.
            if (s.Current == ConnectionState.Disconnected) done.TrySetException(s.Reason ?? new PresenceConnectionException("the connection was lost"));
        };
        foreach (string name in rooms)
        {
            JoinedMessage joined = await client.JoinAsync(name, cancellationToken: cancellation);
            output.Joined(joined);
        }
        using CancellationTokenRegistration stop = cancellation.Register(() => done.TrySetResult(ExitCodes.Ok));
        Task finished = seconds > 0 ? await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(seconds), CancellationToken.None)) : done.Task;
        return finished == done.Task ? await done.Task : ExitCodes.Ok;
    }
}
