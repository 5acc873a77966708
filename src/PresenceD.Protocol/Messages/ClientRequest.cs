using System.Buffers;

namespace PresenceD.Protocol.Messages;

/// <summary>
/// One decoded client frame. String and binary fields are slices of the received bytes (valid until the
/// receive buffer is advanced), so decoding allocates nothing. Which fields are set depends on <see cref="Op"/>;
/// the Has* flags tell a nil or absent optional field apart from an empty one.
/// </summary>
public struct ClientRequest
{
    /// <summary>The op.</summary>
    public OpCode Op;
    /// <summary>Request id (0 = no reply wanted where the op allows it). BYE has none.</summary>
    public uint Rid;
    /// <summary>HELLO: protocol version.</summary>
    public long Version;
    /// <summary>HELLO: the credential (user id with auth none, a JWT with auth jwt). REFRESH: the new JWT.</summary>
    public ReadOnlySequence<byte> Credential;
    /// <summary>HELLO: false when the credential was nil.</summary>
    public bool HasCredential;
    /// <summary>HELLO: the client's name, empty when nil or absent.</summary>
    public ReadOnlySequence<byte> ClientName;
    /// <summary>HELLO: true when resume was given (a str): the client asks for a resumable session.</summary>
    public bool HasResume;
    /// <summary>HELLO: the resume token of the session to resume; empty when the client asks for a new resumable session.</summary>
    public ReadOnlySequence<byte> ResumeToken;
    /// <summary>HELLO: the features bit set the client knows (<see cref="ProtocolFeatures"/>); false when nil or absent.</summary>
    public bool HasFeatures;
    /// <summary>HELLO: the features the client knows, 0 when nil or absent.</summary>
    public uint Features;
    /// <summary>JOIN, LEAVE, PUBLISH, UPDATE, PRESENCE, COUNT: the room name (UTF-8, not yet validated).</summary>
    public ReadOnlySequence<byte> Room;
    /// <summary>JOIN, UPDATE: the member meta.</summary>
    public ReadOnlySequence<byte> Meta;
    /// <summary>JOIN, UPDATE: false when meta was nil or absent.</summary>
    public bool HasMeta;
    /// <summary>JOIN: true when since = [epoch, offset] was given.</summary>
    public bool HasSince;
    /// <summary>JOIN: the epoch of since.</summary>
    public ReadOnlySequence<byte> SinceEpoch;
    /// <summary>JOIN: the offset of since.</summary>
    public ulong SinceOffset;
    /// <summary>JOIN: the last-will payload.</summary>
    public ReadOnlySequence<byte> Will;
    /// <summary>JOIN: false when will was nil or absent.</summary>
    public bool HasWill;
    /// <summary>PUBLISH: the payload.</summary>
    public ReadOnlySequence<byte> Payload;
    /// <summary>PRESENCE: the member limit.</summary>
    public uint Limit;
    /// <summary>PRESENCE: false when limit was nil or absent.</summary>
    public bool HasLimit;
    /// <summary>ONLINE: the users array, header included; walk it with <see cref="EnumerateUsers"/>.</summary>
    public ReadOnlySequence<byte> Users;
    /// <summary>ONLINE: number of user ids asked.</summary>
    public int UserCount;

    /// <summary>ONLINE: each user id's UTF-8 bytes, in order, without allocating.</summary>
    public readonly UserListEnumerator EnumerateUsers() => new(Users, UserCount);
}
