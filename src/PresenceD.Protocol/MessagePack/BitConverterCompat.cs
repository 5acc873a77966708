using System;

namespace PresenceD.Protocol.MessagePack;

/// <summary>BitConverter members netstandard2.1 lacks.</summary>
internal static class BitConverterCompat
{
    public static float Int32BitsToSingle(int value) => BitConverter.Int32BitsToSingle(value);

    public static int SingleToInt32Bits(float value) => BitConverter.SingleToInt32Bits(value);
}
