namespace PresenceD.Protocol.Framing;

/// <summary>What <see cref="FrameReader.TryRead"/> found at the start of the buffer.</summary>
public enum FrameStatus : byte
{
    /// <summary>Not a whole frame yet: read more bytes and try again. Never an error.</summary>
    NeedMore,
    /// <summary>A whole frame; its body was returned and the buffer advanced past it.</summary>
    Complete,
}
