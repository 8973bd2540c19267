using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Tests;

/// <summary>
/// Every input the property tests (or review) found to break the codec, kept as bytes. Each runs
/// through the full property contract, then asserts its specific outcome.
/// </summary>
public class FuzzRegressionTests
{
    public static TheoryData<string, DhcpParseError> Cases() => new()
    {
        // Two option 52s concatenate to a 2-byte value: must be BadOverload, not the first byte taken.
        { "34 01 01 34 01 02 ff", DhcpParseError.BadOverload },
        // Overload 1 with an all-zero file field: nothing more there.
        { "34 01 01 ff", DhcpParseError.None },
        // A pad-only options area, no end: tolerated.
        { "00 00 00 00", DhcpParseError.None },
        // Length byte 0xff on the last option: runs past the datagram.
        { "35 01 01 3d ff 01", DhcpParseError.TruncatedOption },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Options_regressions(string optionsHex, DhcpParseError expected)
    {
        var datagram = TestPackets.Request(optionsHex);

        DhcpCodecPropertyTests.Check(datagram);
        DhcpMessage.TryParse(datagram, DhcpLimits.Default, out _, out var error);
        Assert.Equal(expected, error);
    }
}
