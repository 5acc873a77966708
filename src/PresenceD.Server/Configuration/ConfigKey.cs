namespace PresenceD.Server.Configuration;

/// <summary>One presenced.conf key: its name, help, whether it reloads live, and how its value is parsed and printed.</summary>
internal sealed class ConfigKey
{
    private readonly Func<string, object> _parse;
    private readonly Func<ServerOptions, object> _get;
    private readonly Action<ServerOptions, object> _set;
    private readonly Func<object, string> _format;

    private ConfigKey(
        string name,
        string description,
        bool reloadable,
        Func<string, object> parse,
        Func<ServerOptions, object> get,
        Action<ServerOptions, object> set,
        Func<object, string> format)
    {
        Name = name;
        Description = description;
        Reloadable = reloadable;
        _parse = parse;
        _get = get;
        _set = set;
        _format = format;
        DefaultText = Format(new ServerOptions());
    }

    public string Name { get; }

    public string Description { get; }

    public bool Reloadable { get; }

    public string DefaultText { get; }

    public string EnvironmentName => "PRESENCED_" + Name.ToUpperInvariant();

    public static ConfigKey Create<TValue>(
        string name,
        string description,
        bool reloadable,
        Func<string, TValue> parse,
        Func<TValue, string> format,
        Func<ServerOptions, TValue> get,
        Action<ServerOptions, TValue> set)
        where TValue : notnull
        => new(
            name,
            description,
            reloadable,
            text => parse(text),
            options => get(options),
            (options, value) => set(options, (TValue)value),
            value => format((TValue)value));

    /// <summary>Parses <paramref name="text"/> into <paramref name="options"/>; throws <see cref="FormatException"/> naming the problem.</summary>
    public void Apply(ServerOptions options, string text) => _set(options, _parse(text));

    /// <summary>The value as it would be written in presenced.conf (unquoted).</summary>
    public string Format(ServerOptions options) => _format(_get(options));

    public bool SameValue(ServerOptions a, ServerOptions b) => Equals(_get(a), _get(b));

    public void Copy(ServerOptions from, ServerOptions to) => _set(to, _get(from));
}
