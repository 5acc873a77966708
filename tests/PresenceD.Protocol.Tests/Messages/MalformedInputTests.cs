using System.Buffers;
using PresenceD.Protocol.Messages;
using PresenceD.Protocol.Tests.TestSupport;

namespace PresenceD.Protocol.Tests.Messages;

/// <summary>Malformed or hostile bodies: each is a <see cref="ProtocolException"/> (exactly that type), from both decoders.</summary>
public sealed class MalformedInputTests
{
    [Fact]
    public void Templates_are_valid_as_written()
    {
        foreach (FieldTemplates.Template t in FieldTemplates.Client)
        {
            ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(t.Body(t.Fields.Length)));
            ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(t.Body(t.Required)));
        }
        foreach (FieldTemplates.Template t in FieldTemplates.Server) ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(t.Body(t.Fields.Length)));
    }

    [Fact]
    public void Every_wrongly_typed_client_field_is_rejected()
    {
        int cases = 0;
        foreach (FieldTemplates.Template t in FieldTemplates.Client)
        {
            for (int field = 1; field < t.Fields.Length; field++)
            {
                foreach (string wrong in t.Fields[field].Wrong)
                {
                    AssertRejected(() => ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(t.Body(t.Fields.Length, field, wrong))), $"{t.Name} field {field} = {wrong}");
                    cases++;
                }
            }
        }
        Assert.True(cases > 100, $"{cases} cases");
    }

    [Fact]
    public void Every_wrongly_typed_server_field_is_rejected()
    {
        int cases = 0;
        foreach (FieldTemplates.Template t in FieldTemplates.Server)
        {
            for (int field = 1; field < t.Fields.Length; field++)
            {
                foreach (string wrong in t.Fields[field].Wrong)
                {
                    byte[] body = t.Body(t.Fields.Length, field, wrong);
                    AssertRejected(() => ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(body)), $"{t.Name} field {field} = {wrong}");
                    if (t.Name == "MESSAGE") AssertRejected(() => ServerMessageDecoder.TryReadMessage(new ReadOnlySequence<byte>(body), out _), $"view field {field} = {wrong}");
                    cases++;
                }
            }
        }
        Assert.True(cases > 100, $"{cases} cases");
    }

    [Fact]
    public void Missing_required_elements_are_rejected()
    {
        foreach (FieldTemplates.Template t in FieldTemplates.Client)
        {
            for (int count = 1; count < t.Required; count++)
            {
                AssertRejected(() => ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(t.Body(count))), $"{t.Name} with {count} elements");
            }
        }
        foreach (FieldTemplates.Template t in FieldTemplates.Server)
        {
            for (int count = 1; count < t.Required; count++)
            {
                byte[] body = t.Body(count);
                AssertRejected(() => ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(body)), $"{t.Name} with {count} elements");
                if (t.Name == "MESSAGE") AssertRejected(() => ServerMessageDecoder.TryReadMessage(new ReadOnlySequence<byte>(body), out _), $"view with {count}");
            }
        }
    }

    [Fact]
    public void Bodies_cut_short_are_rejected()
    {
        foreach (FieldTemplates.Template t in FieldTemplates.Client.Concat(FieldTemplates.Server))
        {
            byte[] body = t.Body(t.Fields.Length);
            bool client = FieldTemplates.Client.Contains(t);
            for (int cut = 0; cut < body.Length; cut++)
            {
                byte[] shorter = body[..cut];
                if (client) AssertRejected(() => ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(shorter)), $"{t.Name} cut at {cut}");
                else AssertRejected(() => ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(shorter)), $"{t.Name} cut at {cut}");
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("90")]
    [InlineData("dc0000")]
    [InlineData("01")]
    [InlineData("c0")]
    [InlineData("a3616263")]
    [InlineData("c403010203")]
    [InlineData("81a16101")]
    [InlineData("920801c0")]
    [InlineData("92080100")]
    [InlineData("910990")]
    [InlineData("9100")]
    [InlineData("910b")]
    [InlineData("913f")]
    [InlineData("9140")]
    [InlineData("9146")]
    [InlineData("91ff")]
    [InlineData("91d0f8")]
    [InlineData("91cd0108")]
    [InlineData("91cfffffffffffffffff")]
    [InlineData("91a101")]
    [InlineData("91c0")]
    [InlineData("9303dbffffffff61")]
    [InlineData("940401a172c6ffffffff00")]
    [InlineData("ddffffffff0801")]
    [InlineData("dcffff0801")]
    [InlineData("930801dfffffffff00")]
    [InlineData("930801ddffffffff00")]
    [InlineData("930a01ddffffffffa161")]
    [InlineData("950201a172c0ddffffffffa165")]
    [InlineData("930801c9ffffffff0500")]
    public void Malformed_client_bodies_are_rejected(string hex)
    {
        AssertRejected(() => ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(Convert.FromHexString(hex))), hex);
    }

    [Theory]
    [InlineData("")]
    [InlineData("90")]
    [InlineData("01")]
    [InlineData("81a16101")]
    [InlineData("924101c0")]
    [InlineData("9101")]
    [InlineData("9108")]
    [InlineData("914b")]
    [InlineData("91cd0146")]
    [InlineData("91d0ba")]
    [InlineData("96469101a175a163c40000")]
    [InlineData("9346dbffffffff61")]
    [InlineData("954401a172ddffffffff00")]
    [InlineData("964661a175a163c6ffffffff00")]
    [InlineData("934a01ddffffffffa161")]
    public void Malformed_server_bodies_are_rejected(string hex)
    {
        var body = new ReadOnlySequence<byte>(Convert.FromHexString(hex));
        AssertRejected(() => ServerMessageDecoder.Decode(body), hex);
    }

    [Theory]
    [InlineData("")]
    [InlineData("90")]
    [InlineData("01")]
    [InlineData("91cd0146")]
    [InlineData("91ff")]
    [InlineData("91a146")]
    public void PeekOp_rejects_what_is_not_an_op(string hex)
    {
        AssertRejected(() => ServerMessageDecoder.PeekOp(new ReadOnlySequence<byte>(Convert.FromHexString(hex))), hex);
    }

    [Fact]
    public void Deep_nesting_as_a_trailing_element_is_rejected()
    {
        byte[] deep = [.. Convert.FromHexString("930801"), .. Enumerable.Repeat((byte)0x91, 1000), 0x90];
        AssertRejected(() => ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(deep)), "client");
        byte[] deepServer = [.. Convert.FromHexString("934101"), .. Enumerable.Repeat((byte)0x91, 1000), 0x90];
        AssertRejected(() => ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(deepServer)), "server");
        byte[] deepMember = [.. Convert.FromHexString("95440161919493a175a163c0"), .. Enumerable.Repeat((byte)0x91, 1000), 0x90, 0x01];
        AssertRejected(() => ServerMessageDecoder.Decode(new ReadOnlySequence<byte>(deepMember)), "member");
    }

    [Fact]
    public void Moderate_nesting_as_a_trailing_element_is_skipped()
    {
        byte[] nested = [.. Convert.FromHexString("930801"), .. Enumerable.Repeat((byte)0x91, 16), 0x90];
        Assert.Equal(OpCode.Ping, ClientRequestDecoder.Decode(new ReadOnlySequence<byte>(nested)).Op);
    }

    /// <summary>Passes only for a <see cref="ProtocolException"/>: any other exception, or none, fails with <paramref name="what"/>.</summary>
    internal static void AssertRejected(Action decode, string what)
    {
        try
        {
            decode();
        }
        catch (ProtocolException)
        {
            return;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of ProtocolException: {e.Message}");
        }
        Assert.Fail($"{what}: accepted");
    }

    /// <summary>Passes when <paramref name="decode"/> returns or throws <see cref="ProtocolException"/>; any other exception fails.</summary>
    internal static void AssertRejectedOrDecoded(Action decode, string what)
    {
        try
        {
            decode();
        }
        catch (ProtocolException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of ProtocolException: {e}");
        }
    }
}
