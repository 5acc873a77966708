namespace PresenceD.Load;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        // Completing socket operations on the epoll threads roughly halves the generator's CPU per delivery.
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        using var interrupt = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };
        return await LoadApp.RunAsync(args, Console.Out, Console.Error, interactive: !Console.IsErrorRedirected,
            outputIsTerminal: !Console.IsOutputRedirected, cancellation: interrupt.Token);
    }
}
