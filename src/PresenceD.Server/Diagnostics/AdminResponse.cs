namespace PresenceD.Server.Diagnostics;

/// <summary>An admin HTTP answer before it is written to the socket.</summary>
internal sealed record AdminResponse(int Status, string ContentType, string Body)
{
    /// <summary>The Allow header of a 405.</summary>
    public string? Allow { get; init; }

    public static AdminResponse Text(int status, string body) => new(status, "text/plain; charset=utf-8", body);

    public static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Unknown",
    };
}
