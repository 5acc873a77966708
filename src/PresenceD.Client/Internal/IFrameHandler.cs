using System;
using System.Buffers;

namespace PresenceD.Client.Internal;

/// <summary>What a <see cref="ClientConnection"/> reports to its owner, always from its receive loop.</summary>
internal interface IFrameHandler
{
    /// <summary>One whole server frame body; valid only during the call.</summary>
    void OnFrame(ClientConnection connection, in ReadOnlySequence<byte> body);

    /// <summary>The connection ended (once): null error when the server closed it cleanly.</summary>
    void OnClosed(ClientConnection connection, Exception? error);
}
