using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PresenceD.Cli;
using PresenceD.Tests.Shared;

namespace PresenceD.Tools.Tests.Cli;

/// <summary>`presence-cli tail` against a daemon that ends the session with GOAWAY (auth jwt, token expiry).</summary>
public sealed class TailGoAwayTests : IAsyncLifetime
{
    private const string Secret = "tail-goaway-test-secret";

    private readonly string _secretFile = Path.Combine(Path.GetTempPath(), "presenced-cli-secret-" + Guid.NewGuid().ToString("N"));
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_secretFile, Secret);
        _daemon = await DaemonProcess.StartAsync("--auth", "jwt", "--jwt-secret-file", _secretFile, "--jwt-leeway", "0s", "--timer-tick", "20ms");
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        File.Delete(_secretFile);
    }

    [Fact]
    public async Task Tail_prints_the_GOAWAY_on_stderr_and_exits_3_when_the_token_expires()
    {
        // exp has one-second resolution: the token lives 3 to 4 s, time enough to connect and join on a loaded machine.
        string token = Token(new { sub = "watcher", exp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 4, rooms = new[] { "news" } });
        var output = new StringWriter();
        var error = new StringWriter();

        int code = await CliApp.RunAsync(["tail", "news", "--token", token, "--server", _daemon.Address], output, error)
            .WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(output.ToString().Contains("joined news", StringComparison.Ordinal), $"exit {code}; stdout: {output}; stderr: {error}");
        Assert.True(code == ExitCodes.Refused, $"exit {code}; stderr: {error}");
        Assert.Equal("presence-cli: server closed the connection: GOAWAY AUTH (3): token expired", error.ToString().Trim());
    }

    private static string Token(object claims)
    {
        string header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg = "HS256", typ = "JWT" }));
        string payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        byte[] signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.ASCII.GetBytes(header + "." + payload));
        return header + "." + payload + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
