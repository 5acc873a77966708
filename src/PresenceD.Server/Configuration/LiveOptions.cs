namespace PresenceD.Server.Configuration;

/// <summary>
/// The settings in force. SIGHUP swaps them whole, so a reader sees either the old or the new settings,
/// never a mix; each component holds this one object instead of a copy it would have to be told about.
/// </summary>
internal sealed class LiveOptions(ServerOptions initial)
{
    private ServerOptions _current = initial;

    public ServerOptions Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value);
    }
}
