using System.Collections.Concurrent;
using System.Security.Cryptography;
using PresenceD.Server.Configuration;
using PresenceD.Server.Expiry;

namespace PresenceD.Server.History;

/// <summary>
/// Standalone history: one <see cref="RoomHistory"/> per room that matches <c>history_rooms</c>.
/// Each history's epoch is <c>{ProcessEpoch}-{generation}</c>: new at every process start and
/// whenever a room's history is dropped (expired or unmatched) and later created again.
/// </summary>
internal sealed class HistoryStore
{
    private readonly ConcurrentDictionary<string, RoomHistory> _histories = new(StringComparer.Ordinal);
    private readonly IClock _clock;
    private Settings _settings;
    private long _generation;

    public HistoryStore(string patterns, int size, TimeSpan ttl, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        _settings = new Settings(RoomPatternSet.Parse(patterns), size, ttl);
        ProcessEpoch = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    }

    public string ProcessEpoch { get; }

    /// <summary>False when no room can have history (empty <c>history_rooms</c>).</summary>
    public bool IsEnabled => !Volatile.Read(ref _settings).Patterns.IsEmpty;

    /// <summary>Histories currently held.</summary>
    public int Count => _histories.Count;

    public static HistoryStore FromOptions(ServerOptions options, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new HistoryStore(options.HistoryRooms, options.HistorySize, options.HistoryTtl, clock);
    }

    public bool Matches(string room) => Volatile.Read(ref _settings).Patterns.Matches(room);

    /// <summary>The room's history, created if needed; null when the room has no history.</summary>
    public RoomHistory? Get(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        Settings settings = Volatile.Read(ref _settings);
        if (!settings.Patterns.Matches(room))
        {
            return null;
        }

        while (true)
        {
            if (_histories.TryGetValue(room, out RoomHistory? history))
            {
                if (!history.IsRetired)
                {
                    return history;
                }

                _histories.TryRemove(new KeyValuePair<string, RoomHistory>(room, history));
                continue;
            }

            long generation = Interlocked.Increment(ref _generation);
            var created = new RoomHistory($"{ProcessEpoch}-{generation}", settings.Size, settings.Ttl, _clock.NowMs);
            if (_histories.TryAdd(room, created))
            {
                return created;
            }
        }
    }

    /// <summary>The room's history if one is held; never creates one.</summary>
    public RoomHistory? Find(string room)
        => _histories.TryGetValue(room, out RoomHistory? history) && !history.IsRetired ? history : null;

    /// <summary>Drops histories that hold no message and saw none for a TTL; returns how many. Call periodically.</summary>
    public int DropExpired(long nowMs)
    {
        int dropped = 0;
        foreach (KeyValuePair<string, RoomHistory> pair in _histories)
        {
            if (pair.Value.TryRetireIfExpired(nowMs))
            {
                _histories.TryRemove(pair);
                dropped++;
            }
        }

        return dropped;
    }

    /// <summary>Live reload: rooms no longer matched lose their history; the others take the new size and TTL.</summary>
    public void Reconfigure(string patterns, int size, TimeSpan ttl)
    {
        var settings = new Settings(RoomPatternSet.Parse(patterns), size, ttl);
        Volatile.Write(ref _settings, settings);
        foreach (KeyValuePair<string, RoomHistory> pair in _histories)
        {
            if (settings.Patterns.Matches(pair.Key))
            {
                pair.Value.Reconfigure(size, ttl);
            }
            else
            {
                pair.Value.Retire();
                _histories.TryRemove(pair);
            }
        }
    }

    private sealed record Settings(RoomPatternSet Patterns, int Size, TimeSpan Ttl);
}
