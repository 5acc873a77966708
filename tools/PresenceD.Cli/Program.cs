namespace PresenceD.Cli;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var interrupt = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };
        return await CliApp.RunAsync(args, Console.Out, Console.Error, interrupt.Token);
    }
}
