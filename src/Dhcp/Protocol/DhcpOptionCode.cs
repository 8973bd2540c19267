namespace NekkoMetal.Dhcp.Protocol;

/// <summary>
/// DHCPv4 option codes used by NekkoMetal. Any other byte value is a valid code too: unknown
/// options are kept and passed through byte-exact.
/// </summary>
public enum DhcpOptionCode : byte
{
    /// <summary>RFC 2132 §3.1. Not stored: skipped on decode.</summary>
    Pad = 0,

    /// <summary>RFC 2132 §3.3.</summary>
    SubnetMask = 1,

    /// <summary>RFC 2132 §3.5.</summary>
    Router = 3,

    /// <summary>RFC 2132 §3.8.</summary>
    DomainNameServer = 6,

    /// <summary>RFC 2132 §3.14.</summary>
    HostName = 12,

    /// <summary>RFC 2132 §3.17.</summary>
    DomainName = 15,

    /// <summary>RFC 2132 §8.4 (PXE boot-server options live inside it).</summary>
    VendorSpecificInformation = 43,

    /// <summary>RFC 2132 §9.1.</summary>
    RequestedIPAddress = 50,

    /// <summary>RFC 2132 §9.2.</summary>
    IPAddressLeaseTime = 51,

    /// <summary>RFC 2132 §9.3. Consumed by the decoder, never kept in <see cref="DhcpOptions"/>.</summary>
    OptionOverload = 52,

    /// <summary>RFC 2132 §9.6.</summary>
    DhcpMessageType = 53,

    /// <summary>RFC 2132 §9.7.</summary>
    ServerIdentifier = 54,

    /// <summary>RFC 2132 §9.8.</summary>
    ParameterRequestList = 55,

    /// <summary>RFC 2132 §9.9.</summary>
    Message = 56,

    /// <summary>RFC 2132 §9.10.</summary>
    MaximumMessageSize = 57,

    /// <summary>RFC 2132 §9.11 (T1).</summary>
    RenewalTimeValue = 58,

    /// <summary>RFC 2132 §9.12 (T2).</summary>
    RebindingTimeValue = 59,

    /// <summary>RFC 2132 §9.13.</summary>
    VendorClassIdentifier = 60,

    /// <summary>RFC 2132 §9.14.</summary>
    ClientIdentifier = 61,

    /// <summary>RFC 2132 §9.4.</summary>
    TftpServerName = 66,

    /// <summary>RFC 2132 §9.5.</summary>
    BootFileName = 67,

    /// <summary>RFC 3004 §4.</summary>
    UserClass = 77,

    /// <summary>RFC 3046 §2.</summary>
    RelayAgentInformation = 82,

    /// <summary>RFC 4578 §2.1.</summary>
    ClientSystemArchitecture = 93,

    /// <summary>RFC 4578 §2.2.</summary>
    ClientNetworkInterfaceIdentifier = 94,

    /// <summary>RFC 4578 §2.3.</summary>
    ClientMachineIdentifier = 97,

    /// <summary>RFC 3397 §2.</summary>
    DomainSearch = 119,

    /// <summary>iPXE encapsulated options (IANA "Etherboot", tentatively assigned; iPXE <c>include/ipxe/dhcp.h</c>).</summary>
    IpxeEncapsulated = 175,

    /// <summary>RFC 2132 §3.2. Not stored: ends decoding of an options area.</summary>
    End = 255,
}
