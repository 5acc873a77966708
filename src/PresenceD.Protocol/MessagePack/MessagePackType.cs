namespace PresenceD.Protocol.MessagePack;

/// <summary>The kind of the next MessagePack value.</summary>
public enum MessagePackType : byte
{
    /// <summary>Not a valid format byte (0xc1).</summary>
    Unknown,
    /// <summary>Any int or uint width.</summary>
    Integer,
    /// <summary>nil.</summary>
    Nil,
    /// <summary>true or false.</summary>
    Boolean,
    /// <summary>float32 or float64.</summary>
    Float,
    /// <summary>fixstr, str8/16/32.</summary>
    String,
    /// <summary>bin8/16/32.</summary>
    Binary,
    /// <summary>fixarray, array16/32.</summary>
    Array,
    /// <summary>fixmap, map16/32.</summary>
    Map,
    /// <summary>fixext, ext8/16/32.</summary>
    Extension,
}
