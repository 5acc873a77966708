using System.Net;
using PresenceD.Protocol.Messages;
using PresenceD.Tests.Shared;

namespace PresenceD.Operations.Tests.Soak;

/// <summary>
/// A member that stays in one room for the whole soak and reads everything the room sends: its view (conn ->
/// member) starts from JOINED and follows every PRESENCE_DIFF (leaves first, then joins, so an UPDATE's pair
/// replaces the meta). At the end it asks PRESENCE and compares.
/// </summary>
internal sealed class Observer
{
    private readonly TestClient _client;
    private readonly string _room;
    private readonly Dictionary<string, Member> _view = new(StringComparer.Ordinal);
    private readonly Task _reading;
    private readonly TaskCompletionSource<PresenceStateMessage> _presence = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _error;

    private Observer(TestClient client, string room, JoinedMessage joined)
    {
        _client = client;
        _room = room;
        foreach (Member member in joined.Members) _view[member.Conn] = member;
        _reading = Task.Run(ReadAsync);
    }

    public static async Task<Observer> JoinAsync(IPEndPoint server, string room)
    {
        TestClient client = await TestClient.HelloAsync(server, "observer-" + room, keepAlive: TimeSpan.FromSeconds(5));
        await client.SendAsync(f => ClientFrames.Join(f, 2, room));
        var joined = (JoinedMessage)(await client.ReceiveUntilAsync(m => m is JoinedMessage, "JOINED " + room))[^1];
        return new Observer(client, room, joined);
    }

    /// <summary>Waits until the view holds only this observer, then compares it with PRESENCE_STATE member by member.</summary>
    public async Task<IReadOnlyList<string>> CheckViewAsync()
    {
        var errors = new List<string>();
        string self = _client.Conn;
        try
        {
            await Eventually.TrueAsync(() => ViewCount() == 1 || _error is not null, $"{_room}: the observer's view down to itself", TimeSpan.FromSeconds(60),
                () => $"{ViewCount()} members in the view");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            errors.Add(e.Message);
        }
        await _client.SendAsync(f => ClientFrames.Presence(f, 9, _room));
        PresenceStateMessage state = await _presence.Task.WaitAsync(TimeSpan.FromSeconds(30));
        if (_error is not null) errors.Add($"{_room}: {_error}");
        Dictionary<string, Member> view;
        lock (_view) view = new Dictionary<string, Member>(_view, StringComparer.Ordinal);
        if (state.Total != state.Members.Count) errors.Add($"{_room}: PRESENCE_STATE listed {state.Members.Count} of {state.Total}");
        if (state.Members.Count != 1 || state.Members[0].Conn != self) errors.Add($"{_room}: the server still lists {state.Members.Count} members");
        foreach (Member member in state.Members)
        {
            if (!view.TryGetValue(member.Conn, out Member? seen) || !SameMember(seen, member)) errors.Add($"{_room}: the view lacks {member.Conn} as the server has it");
        }
        foreach (string conn in view.Keys.Where(c => state.Members.All(m => m.Conn != c))) errors.Add($"{_room}: the view still has {conn}");
        return errors;
    }

    public async Task ByeAsync()
    {
        await _client.SendAsync(f => ClientFrames.Bye(f));
        await _reading.WaitAsync(TimeSpan.FromSeconds(30));
        await _client.DisposeAsync();
    }

    private int ViewCount()
    {
        lock (_view) return _view.Count;
    }

    private static bool SameMember(Member a, Member b) =>
        a.User == b.User && a.Conn == b.Conn && (a.Meta ?? []).AsSpan().SequenceEqual(b.Meta ?? []) && (a.Meta is null) == (b.Meta is null);

    private async Task ReadAsync()
    {
        try
        {
            // No frame for a long time is fine (a quiet room); the connection's end stops the loop.
            while (await _client.ReceiveAsync(TimeSpan.FromHours(24)) is { } message)
            {
                switch (message)
                {
                    case PresenceDiffMessage diff when diff.Room == _room:
                        lock (_view)
                        {
                            foreach (Member leave in diff.Leaves) _view.Remove(leave.Conn);
                            foreach (Member join in diff.Joins) _view[join.Conn] = join;
                        }
                        break;
                    case PresenceStateMessage state:
                        _presence.TrySetResult(state);
                        break;
                    case GoAwayMessage or ErrorMessage:
                        _error ??= "unexpected " + TestClient.Describe(message);
                        break;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _error ??= $"{e.GetType().Name}: {e.Message}";
            _presence.TrySetException(e);
        }
    }
}
