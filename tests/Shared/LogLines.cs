using System.Collections;
using System.Collections.Concurrent;

namespace PresenceD.Tests.Shared;

/// <summary>
/// The lines a process printed or a logger wrote, in order, for assertions; a test can wait for one.
/// Enumerating takes a snapshot, so assertions may run while lines still arrive.
/// </summary>
internal sealed class LogLines : IReadOnlyCollection<string>
{
    private readonly ConcurrentQueue<string> _lines = new();

    public int Count => _lines.Count;

    public void Add(string line) => _lines.Enqueue(line);

    /// <summary>The first line at index <paramref name="from"/> or later that contains every fragment, or null.</summary>
    public string? Find(int from, params string[] fragments) =>
        _lines.Skip(from).FirstOrDefault(line => fragments.All(f => line.Contains(f, StringComparison.Ordinal)));

    /// <summary>
    /// Waits for a line (from index <paramref name="from"/> on) containing every fragment. <paramref name="gone"/> says
    /// why no more lines can come (the process exited, after its last lines were read), or null while they still can.
    /// </summary>
    public Task<string> WaitForAsync(TimeSpan timeout, int from, Func<string?>? gone, params string[] fragments)
    {
        string wanted = $"a line with [{string.Join("], [", fragments)}]";
        return Eventually.ValueAsync(() =>
        {
            if (Find(from, fragments) is { } line) return line;
            if (gone?.Invoke() is not { } reason) return null;
            return Find(from, fragments) ?? throw new Xunit.Sdk.XunitException($"no {wanted} before {reason}; lines:\n{this}");
        }, wanted, timeout, () => "lines:\n" + this);
    }

    public IEnumerator<string> GetEnumerator() => _lines.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join("\n", _lines);
}
