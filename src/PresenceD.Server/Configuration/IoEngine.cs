namespace PresenceD.Server.Configuration;

/// <summary>How the send side writes to sockets (<c>io_engine</c>).</summary>
internal enum IoEngine
{
    /// <summary>One non-blocking send(2) per connection with bytes queued (the .NET socket engine, epoll).</summary>
    Epoll,

    /// <summary>The sends of a whole batch of connections in one io_uring submission; epoll where io_uring is refused.</summary>
    IoUring,
}
