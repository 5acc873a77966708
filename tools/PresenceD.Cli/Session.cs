using PresenceD.Client;

namespace PresenceD.Cli;

/// <summary>
/// One command's connection: connects, runs the command, says BYE, and turns failures into clear messages and exit
/// codes. A command that outlives a connection (tail) rethrows the reason it ended, so every failure is told here.
/// </summary>
/// <param name="tls">--tls, --ca-file, --insecure.</param>
internal sealed class Session(string server, string? token, double timeoutSeconds, TlsFlags tls, CliOutput output)
{
    public async Task<int> RunAsync(bool reconnect, Func<PresenceClient, CliOutput, Task<int>> command, CancellationToken cancellation)
    {
        if (!ServerAddress.TryParse(server, out ServerAddress address))
        {
            output.Error($"--server: '{server}' is not host:port");
            return ExitCodes.Usage;
        }
        if (timeoutSeconds <= 0)
        {
            output.Error("--timeout must be positive");
            return ExitCodes.Usage;
        }
        var options = new PresenceClientOptions
        {
            Host = address.Host,
            Port = address.Port,
            Credential = token ?? Environment.GetEnvironmentVariable("PRESENCED_TOKEN") ?? "presence-cli",
            ClientName = "presence-cli",
            RequestTimeout = TimeSpan.FromSeconds(timeoutSeconds),
            ConnectTimeout = TimeSpan.FromSeconds(timeoutSeconds),
            AutoReconnect = reconnect,
            Tls = tls.Enabled,
            TlsCaFile = tls.CaFile,
            TlsInsecureSkipVerify = tls.Insecure,
        };
        if (!tls.Enabled && (tls.CaFile is not null || tls.Insecure))
        {
            output.Error("--ca-file and --insecure need --tls");
            return ExitCodes.Usage;
        }
        await using var client = new PresenceClient(options);
        try
        {
            await client.ConnectAsync(cancellation);
            return await command(client, output);
        }
        catch (PresenceRequestException e)
        {
            output.Error($"server refused: {Name(e.Code)} ({(int)e.Code}): {e.ServerMessage}");
            return ExitCodes.Refused;
        }
        catch (PresenceConnectionException e) when (e.GoAwayCode != ErrorCode.None)
        {
            output.Error($"server closed the connection: GOAWAY {Name(e.GoAwayCode)} ({(int)e.GoAwayCode}): {e.GoAwayText}");
            return ExitCodes.Refused;
        }
        catch (PresenceTlsException e)
        {
            output.Error(e.Message);
            return ExitCodes.Tls;
        }
        catch (PresenceConnectionException e)
        {
            output.Error($"{e.Message} (server {address})");
            return ExitCodes.Unreachable;
        }
        catch (TimeoutException e)
        {
            output.Error($"timed out: {e.Message} (server {address})");
            return ExitCodes.Timeout;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
    }

    private static string Name(ErrorCode code) => code switch
    {
        ErrorCode.NotJoined => "NOT_JOINED",
        ErrorCode.TooLarge => "TOO_LARGE",
        ErrorCode.BadRequest => "BAD_REQUEST",
        ErrorCode.SlowConsumer => "SLOW_CONSUMER",
        _ => code.ToString().ToUpperInvariant(),
    };
}

/// <summary>The TLS flags: speak TLS, trust only this CA file (PEM), or accept any certificate (tests only).</summary>
internal readonly record struct TlsFlags(bool Enabled, string? CaFile, bool Insecure);
