using System.Text.Json;
using PresenceD.Cli;
using PresenceD.Load;
using PresenceD.Tests.Shared;

namespace PresenceD.Tools.Tests;

/// <summary>
/// presence-cli and presence-load with --tls against a real presenced with <c>tls on</c>: --ca-file trusts the test CA,
/// the system's roots do not (a clear error, exit 5 and 2), --insecure accepts any certificate, and --ca-file without
/// --tls is a usage error.
/// </summary>
public sealed class TlsToolsTests : IAsyncLifetime
{
    private readonly TestCertificates _certificates = TestCertificates.Create();
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() =>
        _daemon = await DaemonProcess.StartAsync("--tls", "on", "--tls_cert_file", _certificates.ServerCertFile, "--tls_key_file", _certificates.ServerKeyFile);

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _certificates.Dispose();
    }

    // The test certificate is for localhost (and 127.0.0.1): SNI and the name checked come from --server.
    private string Server => $"localhost:{_daemon.Port}";

    private static async Task<(int Code, string Output, string Error)> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Cli_speaks_tls_with_the_ca_file_and_says_why_a_certificate_is_refused()
    {
        var (code, output, error) = await CliAsync("hello", "--token", "ops", "--server", Server, "--tls", "--ca-file", _certificates.CaFile, "--json");
        Assert.True(code == ExitCodes.Ok, error);
        Assert.Equal("ops", JsonDocument.Parse(output).RootElement.GetProperty("user").GetString());

        var (untrusted, _, why) = await CliAsync("count", "room", "--server", Server, "--tls");
        Assert.Equal(ExitCodes.Tls, untrusted);
        Assert.Contains("is not trusted", why);

        var (insecure, _, insecureError) = await CliAsync("count", "room", "--server", Server, "--tls", "--insecure");
        Assert.True(insecure == ExitCodes.Ok, insecureError);

        var (plain, _, plainError) = await CliAsync("count", "room", "--server", Server);
        Assert.Equal(ExitCodes.Refused, plain);
        Assert.Contains("requires TLS", plainError);

        var (usage, _, usageError) = await CliAsync("count", "room", "--server", Server, "--ca-file", _certificates.CaFile);
        Assert.Equal(ExitCodes.Usage, usage);
        Assert.Contains("need --tls", usageError);
    }

    [Fact]
    public async Task Load_runs_fanout_and_idle_over_tls_and_refuses_an_untrusted_certificate_once()
    {
        string[] common = ["--server", Server, "--json", "--no-progress", "--warmup", "0s", "--tls", "--ca-file", _certificates.CaFile];
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await LoadApp.RunAsync(["fanout", "--subscribers", "20", "--window", "10", "--duration", "1s", .. common], output, error, interactive: false);
        Assert.True(code == 0, error.ToString());
        JsonElement fanout = JsonDocument.Parse(output.ToString()).RootElement;
        Assert.True(fanout.GetProperty("sent").GetInt64() > 0);
        Assert.Equal(fanout.GetProperty("sent").GetInt64() * 20, fanout.GetProperty("delivered").GetInt64());

        output = new StringWriter();
        code = await LoadApp.RunAsync(["idle", "--connections", "50", "--duration", "1s", .. common], output, error, interactive: false);
        Assert.True(code == 0, error.ToString());
        Assert.Equal(50, JsonDocument.Parse(output.ToString()).RootElement.GetProperty("connections").GetInt32());

        var refused = new StringWriter();
        int untrusted = await LoadApp.RunAsync(["idle", "--connections", "50", "--duration", "1s", "--server", Server, "--json", "--no-progress", "--tls"],
            new StringWriter(), refused, interactive: false);
        Assert.Equal(2, untrusted);
        Assert.Contains("is not trusted", refused.ToString());
    }
}
