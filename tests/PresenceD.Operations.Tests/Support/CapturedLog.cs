using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PresenceD.Operations.Tests.Support;

/// <summary>An ILoggerProvider that keeps every formatted line, so in-process tests can assert what the daemon logged.</summary>
internal sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    /// <summary>Waits for a line containing every fragment; fails the test after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForAsync(TimeSpan timeout, params string[] fragments)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!cts.IsCancellationRequested)
        {
            string? line = _lines.FirstOrDefault(l => fragments.All(f => l.Contains(f, StringComparison.Ordinal)));
            if (line is not null) return line;
            await Task.Delay(20);
        }
        throw new Xunit.Sdk.XunitException($"no log line with [{string.Join("], [", fragments)}]; lines:\n{string.Join("\n", _lines)}");
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue(logLevel + ": " + formatter(state, exception));
    }
}
