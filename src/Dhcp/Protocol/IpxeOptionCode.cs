namespace NekkoMetal.Dhcp.Protocol;

/// <summary>
/// Sub-option codes inside option 175 (iPXE encapsulated options), as defined by iPXE's
/// <c>include/ipxe/dhcp.h</c> (<c>DHCP_EB_*</c>). Only the ones NekkoMetal looks at are named.
/// </summary>
public enum IpxeOptionCode : byte
{
    /// <summary>Priority of this DHCP server's settings.</summary>
    Priority = 1,

    /// <summary>Feature indicator: HTTP.</summary>
    HttpFeature = 19,

    /// <summary>Feature indicator: HTTPS.</summary>
    HttpsFeature = 20,

    /// <summary>Feature indicator: DNS.</summary>
    DnsFeature = 23,

    /// <summary>Feature indicator: EFI image format.</summary>
    EfiFeature = 36,

    /// <summary>Skip waiting for proxyDHCP offers: value 1 (<c>af 03 b0 01 01</c> as a whole option).</summary>
    NoPxeDhcp = 176,

    /// <summary>Bus type and location of the booting NIC.</summary>
    BusId = 177,

    /// <summary>iPXE version (major, minor, patch).</summary>
    Version = 235,
}
