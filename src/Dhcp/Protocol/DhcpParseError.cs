namespace NekkoMetal.Dhcp.Protocol;

/// <summary>
/// Why <see cref="DhcpMessage.TryParse"/> rejected a datagram. The reason never carries bytes of
/// the datagram: it is safe to log as is (<see cref="DhcpParseErrorExtensions.Describe"/>).
/// </summary>
public enum DhcpParseError
{
    /// <summary>The datagram parsed.</summary>
    None = 0,

    /// <summary>Shorter than the 236-byte BOOTP header plus the 4-byte magic cookie (RFC 2131 §2, §3).</summary>
    TooShort,

    /// <summary>Longer than <see cref="DhcpLimits.MaxDatagramSize"/>.</summary>
    TooLong,

    /// <summary>The <c>op</c> field is neither BOOTREQUEST (1) nor BOOTREPLY (2).</summary>
    BadOp,

    /// <summary>The <c>hlen</c> field is larger than the 16-byte <c>chaddr</c> field.</summary>
    BadHardwareLength,

    /// <summary>The options do not start with 99.130.83.99 (RFC 2131 §3; a plain BOOTP message is not accepted).</summary>
    BadMagicCookie,

    /// <summary>An option's length byte, or its value, runs past the end of its area.</summary>
    TruncatedOption,

    /// <summary>More option occurrences (pads excluded) than <see cref="DhcpLimits.MaxOptionCount"/>.</summary>
    TooManyOptions,

    /// <summary>The option values add up to more than <see cref="DhcpLimits.MaxTotalOptionBytes"/>.</summary>
    OptionsTooLong,

    /// <summary>Option 52 is not one byte of 1, 2 or 3, or appears inside an overloaded field (RFC 2132 §9.3).</summary>
    BadOverload,
}

public static class DhcpParseErrorExtensions
{
    /// <summary>A fixed English sentence for the reason; it never contains datagram bytes.</summary>
    public static string Describe(this DhcpParseError error) => error switch
    {
        DhcpParseError.None => "The datagram is a well-formed DHCP message.",
        DhcpParseError.TooShort => "The datagram is shorter than a BOOTP header with the DHCP magic cookie.",
        DhcpParseError.TooLong => "The datagram is longer than the configured maximum DHCP datagram size.",
        DhcpParseError.BadOp => "The op field is neither BOOTREQUEST nor BOOTREPLY.",
        DhcpParseError.BadHardwareLength => "The hardware address length is larger than the chaddr field.",
        DhcpParseError.BadMagicCookie => "The options field does not start with the DHCP magic cookie.",
        DhcpParseError.TruncatedOption => "An option runs past the end of its options area.",
        DhcpParseError.TooManyOptions => "The message carries more options than the configured maximum.",
        DhcpParseError.OptionsTooLong => "The option values are longer in total than the configured maximum.",
        DhcpParseError.BadOverload => "The option overload option is malformed or misplaced.",
        _ => "The datagram was rejected.",
    };
}
