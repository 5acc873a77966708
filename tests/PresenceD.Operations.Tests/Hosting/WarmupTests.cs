using PresenceD.Operations.Tests.Support;

using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Hosting;

/// <summary>The warm-up session at start runs the whole request path and leaves no trace of a failed client.</summary>
public sealed class WarmupTests
{
    [Theory]
    [InlineData("none")]
    [InlineData("jwt")]
    public async Task The_warmup_ends_with_BYE_and_counts_no_failure(string auth)
    {
        int port = Ports.Free();
        int adminPort = Ports.Free();
        string secret = Path.Combine(Path.GetTempPath(), "presenced-warmup-secret-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(secret, "warm-up test secret\n");
        try
        {
            string[] lines = auth == "jwt" ? [$"admin_port {adminPort}", "auth jwt", $"jwt_secret_file {secret}"] : [$"admin_port {adminPort}"];
            await using DaemonProcess daemon = DaemonProcess.Start(DaemonSetup.WithConfig(port, lines));
            await daemon.WaitUntilListeningAsync();
            // No client but the warm-up has connected yet, so the first close line is the warm-up's. Its user is the
            // token's sub: with auth jwt that line shows the warm-up's own token was accepted.
            string close = await daemon.WaitForLineAsync(TimeSpan.FromSeconds(30), " closed: ");
            using var http = new HttpClient();
            Dictionary<string, double> metrics = PrometheusText.Parse(await http.GetStringAsync($"http://127.0.0.1:{adminPort}/metrics"));

            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(close, @"conn \S+ user presenced-warmup from 127\.0\.0\.1:\d+ closed: Bye$"), daemon.Output);
            Assert.DoesNotContain(daemon.Lines, l => l.Contains("AuthFailed", StringComparison.Ordinal));
            Assert.Equal(0, metrics.GetValueOrDefault("presenced_connection_closes_total{reason=\"auth_failed\"}"));
            Assert.Equal(1, metrics.GetValueOrDefault("presenced_connection_closes_total{reason=\"bye\"}"));
            Assert.DoesNotContain(metrics, m => m.Key.StartsWith("presenced_errors_total{", StringComparison.Ordinal) && m.Value != 0);
        }
        finally
        {
            File.Delete(secret);
        }
    }
}
