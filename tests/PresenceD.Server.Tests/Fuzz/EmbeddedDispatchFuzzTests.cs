using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using PresenceD.Server.Configuration;
using PresenceD.Server.Hosting;
using PresenceD.Tests.Shared;
using Xunit.Abstractions;

namespace PresenceD.Server.Tests.Fuzz;

/// <summary>
/// Issue 17's fuzz harness: the real decoder and dispatcher with no sockets (<see cref="EmbeddedDispatchFuzzer"/>)
/// for about 10 s in CI with a fixed seed; `tools/fuzz.sh --minutes N` sets PD_FUZZ_MINUTES (and PD_FUZZ_SEED).
/// Nothing but ProtocolException may come out, and once every fuzzed client has ended no room keeps a member and
/// no user stays online (a bad frame loses nothing and leaks nothing). Reports frames per second.
/// </summary>
public sealed class EmbeddedDispatchFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Fuzzed_streams_through_the_real_decoder_and_dispatcher_throw_nothing_else_and_leave_nothing_behind()
    {
        string? minutes = Environment.GetEnvironmentVariable("PD_FUZZ_MINUTES");
        TimeSpan duration = minutes is null ? TimeSpan.FromSeconds(10) : TimeSpan.FromMinutes(double.Parse(minutes, CultureInfo.InvariantCulture));
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PD_FUZZ_SEED"), CultureInfo.InvariantCulture, out int s) ? s : 17;
        var options = new ServerOptions { SendQueueLimit = 256L * 1024 * 1024 };
        await using var server = new PresenceServer(options, NullLoggerFactory.Instance);
        var fuzzer = new EmbeddedDispatchFuzzer(server, seed);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        fuzzer.Run(duration);
        double seconds = clock.Elapsed.TotalSeconds;
        fuzzer.CloseAll();

        string figures = string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: {fuzzer.Frames} frames in {seconds:0.0} s = {fuzzer.Frames / seconds:0} frames/s; {fuzzer.Dispatched} dispatched, {fuzzer.Rejected} rejected, {fuzzer.AllSessions.Count} clients");
        output.WriteLine(figures);
        if (Environment.GetEnvironmentVariable("PD_FUZZ_OUT") is { Length: > 0 } file) File.AppendAllText(file, "dispatch fuzz: " + figures + "\n");
        Assert.True(fuzzer.Bugs.Count == 0, string.Join("\n\n", fuzzer.Bugs));
        Assert.True(fuzzer.Dispatched > 1000 && fuzzer.Rejected > 100, "the fuzzer reached too little: " + figures);
        await Eventually.TrueAsync(() => fuzzer.AllSessions.All(x => x.Ended), "every fuzzed client's end ran", TimeSpan.FromSeconds(30),
            () => $"{fuzzer.AllSessions.Count(x => !x.Ended)} not ended");
        Assert.Equal(0L, server.Rooms.Rooms.Sum(r => (long)r.Count));
        Assert.Equal(0, server.OnlineUsers.Count);
        Assert.Equal(0L, server.Connections.Counters.HandlerFailures);
    }
}
