using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Tests;

/// <summary>Kind 1: tables of valid, incomplete and invalid datagrams with the expected outcome.</summary>
public class DhcpMessageParseTableTests
{
    [Theory]
    // valid
    [InlineData("35 01 01 ff", DhcpParseError.None)]
    [InlineData("35 01 01", DhcpParseError.None)] // missing end: tolerated
    [InlineData("", DhcpParseError.None)] // no options at all
    [InlineData("00 00 35 01 01 00 ff", DhcpParseError.None)] // pads around
    [InlineData("35 01 01 ff 99 99 99", DhcpParseError.None)] // bytes after end are padding
    [InlineData("35 01 01 c8 00 ff", DhcpParseError.None)] // zero-length unknown option
    [InlineData("34 01 03 35 01 01 ff", DhcpParseError.None)] // overload with empty file and sname
    // incomplete
    [InlineData("35", DhcpParseError.TruncatedOption)] // code without length
    [InlineData("35 01", DhcpParseError.TruncatedOption)] // length without value
    [InlineData("35 04 01 02", DhcpParseError.TruncatedOption)] // value shorter than length
    [InlineData("35 01 01 3c ff 41", DhcpParseError.TruncatedOption)]
    // invalid
    [InlineData("34 01 04 ff", DhcpParseError.BadOverload)] // overload value out of range
    [InlineData("34 01 00 ff", DhcpParseError.BadOverload)]
    [InlineData("34 02 01 01 ff", DhcpParseError.BadOverload)] // overload two bytes long
    [InlineData("34 00 ff", DhcpParseError.BadOverload)]
    [InlineData("34 01 01 34 01 01 ff", DhcpParseError.BadOverload)] // repeated: concatenated to two bytes
    public void Options_area(string optionsHex, DhcpParseError expected)
    {
        var ok = DhcpMessage.TryParse(TestPackets.Request(optionsHex), DhcpLimits.Default, out var message, out var error);

        Assert.Equal(expected, error);
        Assert.Equal(expected == DhcpParseError.None, ok);
        Assert.Equal(ok, message is not null);
    }

    [Theory]
    [InlineData(0, DhcpParseError.TooShort)]
    [InlineData(1, DhcpParseError.TooShort)]
    [InlineData(236, DhcpParseError.TooShort)] // BOOTP header, no cookie
    [InlineData(239, DhcpParseError.TooShort)]
    [InlineData(240, DhcpParseError.None)] // header and cookie only
    [InlineData(1500, DhcpParseError.None)]
    [InlineData(1501, DhcpParseError.TooLong)]
    [InlineData(65507, DhcpParseError.TooLong)] // largest UDP payload
    public void Length(int length, DhcpParseError expected)
    {
        var datagram = new byte[length];
        TestPackets.Request([]).AsSpan(0, Math.Min(length, DhcpMessage.OptionsOffset)).CopyTo(datagram);

        DhcpMessage.TryParse(datagram, DhcpLimits.Default, out _, out var error);

        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData(0, 0, DhcpParseError.BadOp)]
    [InlineData(0, 3, DhcpParseError.BadOp)]
    [InlineData(0, 0xFF, DhcpParseError.BadOp)]
    [InlineData(0, 2, DhcpParseError.None)] // BOOTREPLY parses too
    [InlineData(2, 16, DhcpParseError.None)]
    [InlineData(2, 17, DhcpParseError.BadHardwareLength)]
    [InlineData(2, 0xFF, DhcpParseError.BadHardwareLength)]
    [InlineData(2, 0, DhcpParseError.None)]
    [InlineData(236, 0x62, DhcpParseError.BadMagicCookie)]
    [InlineData(239, 0x64, DhcpParseError.BadMagicCookie)]
    [InlineData(3, 0xFF, DhcpParseError.None)] // hops is not checked
    public void Header_byte(int offset, byte value, DhcpParseError expected)
    {
        var datagram = TestPackets.Request("35 01 01 ff");
        datagram[offset] = value;

        DhcpMessage.TryParse(datagram, DhcpLimits.Default, out _, out var error);

        Assert.Equal(expected, error);
    }

    [Fact]
    public void Larger_limit_accepts_larger_datagram()
    {
        var datagram = TestPackets.Request(new byte[2000]);

        Assert.False(DhcpMessage.TryParse(datagram, DhcpLimits.Default, out _, out var error));
        Assert.Equal(DhcpParseError.TooLong, error);
        Assert.True(DhcpMessage.TryParse(datagram, DhcpLimits.Default with { MaxDatagramSize = 4096 }, out _, out _));
    }

    [Fact]
    public void Too_many_options()
    {
        var options = Enumerable.Repeat(TestPackets.Hex("c8 00"), 256).SelectMany(b => b).ToArray();

        Assert.False(DhcpMessage.TryParse(TestPackets.Request(options), DhcpLimits.Default, out _, out var error));
        Assert.Equal(DhcpParseError.TooManyOptions, error);
        Assert.True(DhcpMessage.TryParse(TestPackets.Request(options.AsSpan(0, 510)), DhcpLimits.Default, out var message, out _));
        Assert.Single(message.Options); // 255 occurrences of one code, concatenated
    }

    [Fact]
    public void Option_bytes_over_limit()
    {
        var options = TestPackets.Hex("c8 ff" + new string('0', 510) + "c9 02 00 00");
        var limits = DhcpLimits.Default with { MaxTotalOptionBytes = 256 };

        Assert.False(DhcpMessage.TryParse(TestPackets.Request(options), limits, out _, out var error));
        Assert.Equal(DhcpParseError.OptionsTooLong, error);
        Assert.True(DhcpMessage.TryParse(TestPackets.Request(options), DhcpLimits.Default, out _, out _));
    }

    [Theory]
    [InlineData(575)]
    [InlineData(4097)]
    [InlineData(0)]
    public void Limits_reject_datagram_size_outside_576_to_4096(int size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DhcpLimits.Default with { MaxDatagramSize = size });

    [Theory]
    // overload = 1: options continue in file; = 2: in sname; = 3: file first, then sname (RFC 2131 §4.1)
    [InlineData(1, "0c 01 66 ff", "", "0c 01 66")]
    [InlineData(2, "", "0c 01 73 ff", "0c 01 73")]
    [InlineData(3, "0c 01 66 ff", "0c 01 73 ff", "0c 02 66 73")] // RFC 3396 concatenation across fields
    [InlineData(3, "0c 01 66", "", "0c 01 66")] // no end in file: tolerated
    [InlineData(1, "", "0c 01 73 ff", "")] // sname not overloaded: its bytes are a name, not options
    public void Overloaded_fields(byte overload, string fileHex, string snameHex, string expectedExtraHex)
    {
        var datagram = TestPackets.Request($"34 01 {overload:x2} 35 01 01 ff");
        TestPackets.Hex(fileHex).CopyTo(datagram, 108);
        TestPackets.Hex(snameHex).CopyTo(datagram, 44);

        var message = TestPackets.Parse(datagram);

        Assert.False(message.Options.Contains(DhcpOptionCode.OptionOverload));
        Assert.Equal(DhcpMessageType.Discover, message.Options.MessageType);
        var extra = TestPackets.Hex(expectedExtraHex);
        if (extra.Length == 0)
        {
            Assert.False(message.Options.Contains(DhcpOptionCode.HostName));
        }
        else
        {
            Assert.Equal(extra[2..], message.Options.GetSpan(DhcpOptionCode.HostName).ToArray());
        }

        if ((overload & 1) != 0)
        {
            Assert.All(message.BootFileField.ToArray(), b => Assert.Equal(0, b));
        }

        if ((overload & 2) != 0)
        {
            Assert.All(message.ServerNameField.ToArray(), b => Assert.Equal(0, b));
        }
    }

    [Theory]
    [InlineData("34 01 01 ff", 108, "34 01 01 ff", DhcpParseError.BadOverload)] // 52 inside file
    [InlineData("34 01 01 ff", 108, "0c 05 66", DhcpParseError.TruncatedOption)] // runs past file's end
    [InlineData("34 01 02 ff", 44, "0c", DhcpParseError.TruncatedOption)]
    public void Overloaded_field_errors(string optionsHex, int fieldOffset, string fieldHex, DhcpParseError expected)
    {
        var datagram = TestPackets.Request(optionsHex);
        var field = TestPackets.Hex(fieldHex);
        var fieldLength = fieldOffset == 108 ? 128 : 64;
        // put the bytes at the very end of the field so "runs past" really runs past it
        field.CopyTo(datagram, fieldOffset + (expected == DhcpParseError.TruncatedOption ? fieldLength - field.Length : 0));

        Assert.False(DhcpMessage.TryParse(datagram, DhcpLimits.Default, out _, out var error));
        Assert.Equal(expected, error);
    }
}
