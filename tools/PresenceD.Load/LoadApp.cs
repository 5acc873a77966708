using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using PresenceD.Client;
using PresenceD.Client.Internal;
using PresenceD.Load.Reporting;
using PresenceD.Load.Scenarios;
using Spectre.Console;

namespace PresenceD.Load;

/// <summary>
/// The presence-load command line: scenarios fanout, rooms, idle and churn with shared flags, and --compare of two
/// --json results. Exit codes: 0 when every expected delivery arrived without errors, 1 for bad arguments or a run
/// with errors or missing deliveries, 2 when the server cannot be reached.
/// </summary>
internal static class LoadApp
{
    /// <param name="interactive">stderr is a terminal: live progress as a table.</param>
    /// <param name="outputIsTerminal">stdout is a terminal: the summary as a boxed table, else plain text.</param>
    /// <param name="adjust">Tests only: changes the parsed options (the pacer stall hook has no flag).</param>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, bool interactive,
        bool outputIsTerminal = false, Func<LoadOptions, LoadOptions>? adjust = null, CancellationToken cancellation = default)
    {
        RootCommand root = BuildCommand(output, error, new Terminal(interactive, outputIsTerminal), adjust ?? (o => o));
        ParseResult parsed = root.Parse(args);
        return parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellation);
    }

    /// <summary>Which of stderr and stdout are terminals.</summary>
    internal readonly record struct Terminal(bool Error, bool Output);

    internal static RootCommand BuildCommand(TextWriter output, TextWriter error, Terminal terminal, Func<LoadOptions, LoadOptions> adjust)
    {
        var server = new Option<string>("--server") { Description = "Server address host:port, or several comma-separated (nodes of one cluster): connection i goes to server i modulo their count", DefaultValueFactory = _ => "127.0.0.1:7400", Recursive = true };
        var duration = new Option<string>("--duration") { Description = "Measured time (10s, 500ms, 2m)", DefaultValueFactory = _ => "10s", Recursive = true };
        var warmup = new Option<string>("--warmup") { Description = "Unmeasured warm-up before fanout/rooms", DefaultValueFactory = _ => "1s", Recursive = true };
        var payload = new Option<int>("--payload") { Description = "Payload bytes (at least 8: the send timestamp)", DefaultValueFactory = _ => 64, Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on stdout (else a table: boxed on a terminal, plain text otherwise)", Recursive = true };
        var serverPid = new Option<int>("--server-pid") { Description = "Server process id: report its RSS and CPU seconds", Recursive = true };
        var maxMessages = new Option<long>("--max-messages") { Description = "Stop publishing after this many messages (0 = no limit)", Recursive = true };
        var sourceAddresses = new Option<int>("--source-addresses") { Description = "Connect from 127.0.0.2.. (N addresses; -1 = automatic above 25,000 connections)", DefaultValueFactory = _ => -1, Recursive = true };
        var roomPrefix = new Option<string>("--room-prefix") { Description = "Prefix of the rooms the run uses", DefaultValueFactory = _ => "load", Recursive = true };
        var noProgress = new Option<bool>("--no-progress") { Description = "No live progress on stderr", Recursive = true };
        var tls = new Option<bool>("--tls") { Description = "Every connection speaks TLS (SNI and the certificate's name: the --server host)", Recursive = true };
        var caFile = new Option<string?>("--ca-file") { Description = "With --tls: trust only the CA certificates of this PEM file (default: the system's roots)", Recursive = true };
        var insecure = new Option<bool>("--insecure") { Description = "With --tls: accept any certificate (tests only)", Recursive = true };
        var interval = new Option<string>("--interval")
        {
            Description = "Print a row per interval (rates and percentiles of that interval alone), e.g. 1s (at least 100ms); also in --json as \"intervals\"",
            HelpName = "duration",
            Recursive = true,
        };
        var hdrOut = new Option<string>("--hdr-out")
        {
            Description = "Write the latency histograms (one per --interval, else one for the run) as an HdrHistogram interval log to this file",
            HelpName = "file",
            Recursive = true,
        };
        var compare = new Option<string[]>("--compare")
        {
            Description = "Print two --json results (a.json b.json) side by side with b/a ratios, then exit",
            HelpName = "a.json b.json",
            Arity = new ArgumentArity(2, 2),
            AllowMultipleArgumentsPerToken = true,
        };

        var subscribers = new Option<int>("--subscribers") { Description = "Subscriber connections", DefaultValueFactory = _ => 1000 };
        var publishers = new Option<int>("--publishers") { Description = "Publisher connections", DefaultValueFactory = _ => 1 };
        var window = new Option<int>("--window") { Description = "Messages in flight per publisher (closed loop, without --rate)", DefaultValueFactory = _ => 100 };
        var fanoutRate = new Option<double>("--rate")
        {
            Description = "Messages/s in total over the publishers, open loop: latency from each message's due time (0 = closed loop with --window)",
            DefaultValueFactory = _ => 0,
        };
        Option<int> Connections(int fallback) => new("--connections") { Description = "Connections", DefaultValueFactory = _ => fallback };
        Option<int> RoomSize(int fallback) => new("--room-size") { Description = "Members per room", DefaultValueFactory = _ => fallback };
        Option<double> Rate(double fallback, string what) => new("--rate") { Description = what, DefaultValueFactory = _ => fallback };

        var fanout = new Command("fanout", "One room: S subscribers, P publishers; open loop at --rate, else windowed (closed loop)") { subscribers, publishers, window, fanoutRate };
        Option<int> roomsConnections = Connections(1000), roomsSize = RoomSize(10);
        Option<double> roomsRate = Rate(1, "Messages/s per connection, open loop: latency from each message's due time");
        var rooms = new Command("rooms", "C connections in rooms of R members, each publishing at a rate (open loop)") { roomsConnections, roomsSize, roomsRate };
        Option<int> idleConnections = Connections(1000);
        var idle = new Command("idle", "N connections that only heartbeat; server memory per connection") { idleConnections };
        Option<int> churnConnections = Connections(100), churnSize = RoomSize(10);
        Option<double> churnRate = Rate(10, "JOIN/LEAVE operations/s per connection, open loop: latency from each operation's due time");
        var churn = new Command("churn", "JOIN/LEAVE churn, reconnects and a reconnect storm") { churnConnections, churnSize, churnRate };

        var root = new RootCommand("presence-load: load generator for PresenceD")
        {
            server, duration, warmup, payload, json, serverPid, maxMessages, sourceAddresses, roomPrefix, noProgress, interval, hdrOut, compare,
            tls, caFile, insecure,
        };
        root.SetAction((p, ct) => p.GetValue(compare) is { Length: 2 } files
            ? CompareAsync(files[0], files[1], output, error)
            : Usage(error, "name a scenario (fanout, rooms, idle, churn) or --compare a.json b.json; --help lists the options"));
        root.Subcommands.Add(fanout);
        root.Subcommands.Add(rooms);
        root.Subcommands.Add(idle);
        root.Subcommands.Add(churn);

        LoadOptions Common(ParseResult p, string scenario)
        {
            var addresses = new List<ServerAddress>();
            foreach (string one in (p.GetValue(server) ?? "").Split(','))
            {
                if (!ServerAddress.TryParse(one.Trim(), out ServerAddress address)) throw new ArgumentException($"--server: '{one}' is not host:port");
                addresses.Add(address);
            }
            if (!LoadOptions.TryParseDuration(p.GetValue(duration), out TimeSpan measured)) throw new ArgumentException($"--duration: '{p.GetValue(duration)}' is not a duration");
            if (!LoadOptions.TryParseDuration(p.GetValue(warmup), out TimeSpan warm)) throw new ArgumentException($"--warmup: '{p.GetValue(warmup)}' is not a duration");
            TimeSpan every = TimeSpan.Zero;
            if (p.GetValue(interval) is { } text && !LoadOptions.TryParseDuration(text, out every)) throw new ArgumentException($"--interval: '{text}' is not a duration");
            return new LoadOptions
            {
                Scenario = scenario,
                Servers = addresses,
                Duration = measured,
                Warmup = warm,
                Payload = p.GetValue(payload),
                Json = p.GetValue(json),
                ServerPid = p.GetValue(serverPid),
                MaxMessages = p.GetValue(maxMessages),
                SourceAddresses = p.GetValue(sourceAddresses),
                RoomPrefix = p.GetValue(roomPrefix) ?? "load",
                NoProgress = p.GetValue(noProgress),
                Interval = every,
                HdrOut = p.GetValue(hdrOut),
                Tls = p.GetValue(tls),
                CaFile = p.GetValue(caFile),
                Insecure = p.GetValue(insecure),
            };
        }

        fanout.SetAction((p, ct) => Execute(() => Common(p, "fanout") with
        {
            Subscribers = p.GetValue(subscribers),
            Publishers = p.GetValue(publishers),
            Window = p.GetValue(window),
            Rate = p.GetValue(fanoutRate),
        }, adjust, output, error, terminal, ct));
        rooms.SetAction((p, ct) => Execute(() => Common(p, "rooms") with
        {
            Connections = p.GetValue(roomsConnections),
            RoomSize = p.GetValue(roomsSize),
            Rate = p.GetValue(roomsRate),
        }, adjust, output, error, terminal, ct));
        idle.SetAction((p, ct) => Execute(() => Common(p, "idle") with { Connections = p.GetValue(idleConnections) }, adjust, output, error, terminal, ct));
        churn.SetAction((p, ct) => Execute(() => Common(p, "churn") with
        {
            Connections = p.GetValue(churnConnections),
            RoomSize = p.GetValue(churnSize),
            Rate = p.GetValue(churnRate),
        }, adjust, output, error, terminal, ct));
        return root;
    }

    private static async Task<int> Usage(TextWriter error, string message)
    {
        await error.WriteLineAsync("presence-load: " + message);
        return 1;
    }

    private static async Task<int> CompareAsync(string a, string b, TextWriter output, TextWriter error)
    {
        try
        {
            await output.WriteAsync(ResultComparer.Compare(a, await File.ReadAllTextAsync(a), b, await File.ReadAllTextAsync(b)));
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            await error.WriteLineAsync("presence-load: --compare: " + e.Message);
            return 1;
        }
    }

    private static async Task<int> Execute(Func<LoadOptions> parse, Func<LoadOptions, LoadOptions> adjust, TextWriter output, TextWriter error, Terminal terminal, CancellationToken cancellation)
    {
        LoadOptions options;
        try
        {
            options = adjust(parse());
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync("presence-load: " + e.Message);
            return 1;
        }
        if (options.Validate() is { } problem)
        {
            await error.WriteLineAsync("presence-load: " + problem);
            return 1;
        }
        var targets = new List<LoadTarget>();
        try
        {
            foreach (ServerAddress address in options.Servers)
            {
                TlsHandshake? tlsHandshake = options.Tls ? TlsHandshake.Create(address.Host, options.CaFile, options.Insecure) : null;
                targets.Add(new LoadTarget(await ResolveAndProbeAsync(address, tlsHandshake, cancellation), tlsHandshake));
            }
        }
        catch (Exception e) when (e is LoadException or PresenceTlsException)
        {
            await error.WriteLineAsync("presence-load: " + e.Message);
            return 2;
        }
        HdrLogWriter? hdrLog;
        try
        {
            hdrLog = options.HdrOut is { } path ? new HdrLogWriter(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            await error.WriteLineAsync($"presence-load: --hdr-out: cannot write {options.HdrOut}: {e.Message}");
            return 1;
        }
        bool liveRows = options.Interval > TimeSpan.Zero && !options.Json;
        var result = new LoadResult
        {
            Scenario = options.Scenario,
            Server = string.Join(',', options.Servers),
            Payload = options.Payload,
            IntervalSeconds = options.Interval.TotalSeconds,
        };
        bool headerShown = false;
        using var context = new LoadContext(options, targets, cancellation)
        {
            HdrLog = hdrLog,
            OnIntervalRow = liveRows
                ? row =>
                {
                    if (!headerShown) output.WriteLine(ResultWriter.IntervalHeader(row.PacerLag is not null));
                    headerShown = true;
                    output.WriteLine(ResultWriter.IntervalLine(row));
                    output.Flush();
                }
                : null,
        };
        Task run = options.Scenario switch
        {
            "fanout" => FanoutScenario.RunAsync(context, result),
            "rooms" => RoomsScenario.RunAsync(context, result),
            "idle" => IdleScenario.RunAsync(context, result),
            _ => ChurnScenario.RunAsync(context, result),
        };
        // Live --interval rows are the progress display; a live table on the same terminal would overwrite them.
        if (!options.NoProgress && !liveRows) await LiveProgress.TrackAsync(context, run, error, terminal.Error);
        try
        {
            await run;
        }
        catch (LoadException e)
        {
            await error.WriteLineAsync("presence-load: " + e.Message);
            return 1;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("presence-load: interrupted");
            return 1;
        }
        if (options.Json) await output.WriteLineAsync(ResultWriter.ToJson(result));
        else if (terminal.Output) ResultWriter.WriteTable(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), result);
        else ResultWriter.WritePlain(output, result);
        if (!result.Ok)
            await error.WriteLineAsync($"presence-load: {result.ErrorTotal} errors, {Math.Max(0, result.Expected - result.Delivered)} deliveries missing");
        return result.Ok ? 0 : 1;
    }

    /// <summary>The server's address, once a connection to it opened (and, with TLS, its certificate was accepted): a bad one is said once, not per connection.</summary>
    private static async Task<IPEndPoint> ResolveAndProbeAsync(ServerAddress server, TlsHandshake? tls, CancellationToken cancellation)
    {
        IPAddress address;
        try
        {
            address = IPAddress.TryParse(server.Host, out IPAddress? literal)
                ? literal
                : (await Dns.GetHostAddressesAsync(server.Host, cancellation)).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException)
        {
            throw new LoadException($"cannot resolve {server.Host}");
        }
        var endpoint = new IPEndPoint(address, server.Port);
        using var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await probe.ConnectAsync(endpoint, cancellation).AsTask().WaitAsync(TimeSpan.FromSeconds(5), cancellation);
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            throw new LoadException($"cannot connect to {server}: {(e is SocketException s ? s.SocketErrorCode.ToString() : "timed out")}");
        }
        try
        {
            if (tls is not null) (await tls.AuthenticateAsync(probe, server.ToString(), TimeSpan.FromSeconds(5), cancellation)).Dispose();
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            throw new LoadException($"cannot connect to {server}: TLS handshake: {e.Message}");
        }
        probe.LingerState = new LingerOption(true, 0);
        return endpoint;
    }
}
