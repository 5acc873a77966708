using Microsoft.Extensions.Logging;

namespace PresenceD.Tests.Shared;

/// <summary>An ILoggerProvider that keeps every formatted line ("Level: message"), so in-process tests can assert and wait on what the server logged.</summary>
internal sealed class CapturedLog : ILoggerProvider
{
    public LogLines Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    /// <summary>Waits for a line containing every fragment; fails the test after <paramref name="timeout"/>.</summary>
    public Task<string> WaitForAsync(TimeSpan timeout, params string[] fragments) => Lines.WaitForAsync(timeout, 0, null, fragments);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Add(logLevel + ": " + formatter(state, exception));
    }
}
