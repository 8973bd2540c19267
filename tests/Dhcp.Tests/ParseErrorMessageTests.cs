using System.Text;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Tests;

/// <summary>Kind 5: what is said about a rejected datagram never carries the datagram's bytes.</summary>
public class ParseErrorMessageTests
{
    private const string Marker = "EVIL<script>\u00ff";

    private static byte[] WithMarker(string optionsPrefixHex, string optionsSuffixHex = "")
    {
        var marker = Encoding.Latin1.GetBytes(Marker);
        return TestPackets.Request([.. TestPackets.Hex(optionsPrefixHex), 0x3c, (byte)marker.Length, .. marker, .. TestPackets.Hex(optionsSuffixHex)]);
    }

    public static TheoryData<string, DhcpParseError> Inputs() => new()
    {
        { "truncated", DhcpParseError.TruncatedOption },
        { "overload", DhcpParseError.BadOverload },
        { "cookie", DhcpParseError.BadMagicCookie },
        { "op", DhcpParseError.BadOp },
        { "hlen", DhcpParseError.BadHardwareLength },
        { "short", DhcpParseError.TooShort },
        { "long", DhcpParseError.TooLong },
        { "count", DhcpParseError.TooManyOptions },
    };

    private static byte[] Build(string kind) => kind switch
    {
        "truncated" => WithMarker("35 01 01", "0c 09 41"),
        "overload" => WithMarker("34 01 09"),
        "cookie" => Mutate(WithMarker("35 01 01"), 236, 0),
        "op" => Mutate(WithMarker("35 01 01"), 0, 7),
        "hlen" => Mutate(WithMarker("35 01 01"), 2, 200),
        "short" => Encoding.Latin1.GetBytes(Marker),
        "long" => [.. WithMarker("35 01 01"), .. new byte[1500]],
        "count" => WithMarker(string.Concat(Enumerable.Repeat("c8 00 ", 300))),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static byte[] Mutate(byte[] datagram, int offset, byte value)
    {
        datagram[offset] = value;
        return datagram;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Error_text_never_contains_client_bytes(string kind, DhcpParseError expected)
    {
        var datagram = Build(kind);

        Assert.False(DhcpMessage.TryParse(datagram, DhcpLimits.Default, out var message, out var error));
        Assert.Null(message);
        Assert.Equal(expected, error);
        foreach (var text in new[] { error.Describe(), error.ToString() })
        {
            Assert.DoesNotContain("EVIL", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("script", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToHexString(Encoding.Latin1.GetBytes("EVIL")), text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Every_reason_has_a_fixed_printable_description()
    {
        foreach (var error in Enum.GetValues<DhcpParseError>())
        {
            var text = error.Describe();
            Assert.False(string.IsNullOrWhiteSpace(text));
            Assert.All(text, c => Assert.InRange(c, ' ', '~'));
            Assert.Same(text, error.Describe()); // a constant, not built from input
        }
    }
}
