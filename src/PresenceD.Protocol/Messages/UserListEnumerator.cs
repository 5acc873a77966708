using System.Buffers;
using PresenceD.Protocol.MessagePack;

namespace PresenceD.Protocol.Messages;

/// <summary>Walks the str elements of an ONLINE users array (validated by the decoder) without allocating.</summary>
public ref struct UserListEnumerator
{
    private MessagePackReader _reader;
    private int _left;

    internal UserListEnumerator(ReadOnlySequence<byte> users, int count)
    {
        _reader = new MessagePackReader(users);
        _left = count;
        Current = default;
        if (count > 0 || !users.IsEmpty) _reader.ReadArrayHeader();
    }

    /// <summary>The current user id's UTF-8 bytes.</summary>
    public ReadOnlySequence<byte> Current { get; private set; }

    /// <summary>Returns itself, for foreach.</summary>
    public readonly UserListEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next user id.</summary>
    public bool MoveNext()
    {
        if (_left == 0) return false;
        _left--;
        Current = _reader.ReadStringSequence();
        return true;
    }
}
