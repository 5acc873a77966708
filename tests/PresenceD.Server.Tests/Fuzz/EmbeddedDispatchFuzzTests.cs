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
/// no user stays online (a bad frame loses nothing and leaks nothing). HELLOs carry resume tokens (those WELCOMEs
/// gave, garbled ones, garbage), so resumes, takeovers and the resume_max_sessions refusals are fuzzed too. Reports
/// frames per second.
/// </summary>
public sealed class EmbeddedDispatchFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Fuzzed_streams_through_the_real_decoder_and_dispatcher_throw_nothing_else_and_leave_nothing_behind()
    {
        string? minutes = Environment.GetEnvironmentVariable("PD_FUZZ_MINUTES");
        TimeSpan duration = minutes is null ? TimeSpan.FromSeconds(10) : TimeSpan.FromMinutes(double.Parse(minutes, CultureInfo.InvariantCulture));
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PD_FUZZ_SEED"), CultureInfo.InvariantCulture, out int s) ? s : 17;
        // A small resume_max_sessions so that drops past it (ended at once, not suspended) are fuzzed too.
        var options = new ServerOptions { SendQueueLimit = 256L * 1024 * 1024, ResumeMaxSessions = 8 };
        await using var server = new PresenceServer(options, NullLoggerFactory.Instance);
        var fuzzer = new EmbeddedDispatchFuzzer(server, seed);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        fuzzer.Run(duration);
        double seconds = clock.Elapsed.TotalSeconds;
        fuzzer.CloseAll();

        string figures = string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: {fuzzer.Frames} frames in {seconds:0.0} s = {fuzzer.Frames / seconds:0} frames/s; {fuzzer.Dispatched} dispatched, {fuzzer.Rejected} rejected, {fuzzer.AllSessions.Count} clients; sessions {fuzzer.ResumeCounters.Suspended} suspended, {fuzzer.ResumeCounters.Resumed} resumed, {fuzzer.ResumeCounters.Refused} refused at resume_max_sessions");
        output.WriteLine(figures);
        if (Environment.GetEnvironmentVariable("PD_FUZZ_OUT") is { Length: > 0 } file) File.AppendAllText(file, "dispatch fuzz: " + figures + "\n");
        Assert.True(fuzzer.Bugs.Count == 0, string.Join("\n\n", fuzzer.Bugs));
        Assert.True(fuzzer.Dispatched > 1000 && fuzzer.Rejected > 100, "the fuzzer reached too little: " + figures);
        // HELLOs with the tokens WELCOMEs gave reach the resume paths: takeovers, resumes of suspended sessions, the cap.
        Assert.True(fuzzer.ResumeCounters.Resumed > 10 && fuzzer.ResumeCounters.Refused > 0, "the fuzzer resumed too little: " + figures);
        await Eventually.TrueAsync(() =>
            {
                fuzzer.EndSuspended(); // a mutated HELLO can ask for a resumable session: end those as the drain does
                return fuzzer.AllSessions.All(x => x.Ended);
            }, "every fuzzed client's end ran", TimeSpan.FromSeconds(30),
            () => $"{fuzzer.AllSessions.Count(x => !x.Ended)} not ended ({fuzzer.AllSessions.Count(x => x.IsSuspended)} suspended)");
        // A session is marked ended before its end leaves its rooms and takes the user offline (on a pool thread, for
        // a connection's close): wait for those too. A leak never gets there, and fails here.
        await Eventually.TrueAsync(() => server.Rooms.Rooms.Sum(r => (long)r.Count) == 0 && server.OnlineUsers.Count == 0,
            "no room keeps a member and no user stays online", TimeSpan.FromSeconds(10),
            () => $"{server.Rooms.Rooms.Sum(r => (long)r.Count)} memberships, {server.OnlineUsers.Count} users online");
        Assert.Equal(0L, server.Connections.Counters.HandlerFailures);
    }
}
