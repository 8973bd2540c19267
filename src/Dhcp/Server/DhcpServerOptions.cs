using NekkoMetal.Dhcp.Boot;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Server;

/// <summary>How the server answers on one interface.</summary>
public enum DhcpMode
{
    /// <summary>
    /// proxyDHCP beside another DHCP server (a home router): answer only network-boot clients, with boot information
    /// and no address — DISCOVER on the server port (OFFER), REQUEST on the PXE port 4011 (ACK). Never hands out
    /// an address, so it is the default.
    /// </summary>
    Proxy = 0,

    /// <summary>The DHCP server of the link: allocates addresses through <see cref="IDhcpLeaseStore"/> and answers every client.</summary>
    Authoritative = 1,
}

/// <summary>
/// The DHCPv4 server. <b>DHCP is off unless at least one interface is named</b> in <see cref="Interfaces"/>: a rogue
/// DHCP server on a home LAN does real harm. Bound from configuration (section <see cref="SectionName"/>).
/// </summary>
public sealed record DhcpServerOptions
{
    public const string SectionName = "Dhcp";

    /// <summary>The interfaces to serve, each with its mode. Empty (the default): DHCP is off.</summary>
    public IReadOnlyList<DhcpInterfaceOptions> Interfaces { get; init; } = [];

    /// <summary>Where requests arrive (RFC 2131 §4.1: 67).</summary>
    public int ServerPort { get; init; } = 67;

    /// <summary>Where replies to directly attached clients go (RFC 2131 §4.1: 68).</summary>
    public int ClientPort { get; init; } = 68;

    /// <summary>PXE boot server / proxyDHCP port (PXE 2.1: 4011); opened on <see cref="DhcpMode.Proxy"/> interfaces only.</summary>
    public int ProxyPort { get; init; } = 4011;

    /// <summary>Where replies to relayed requests go, at <c>giaddr</c> (RFC 2131 §4.1: the server port, 67). Separate so tests can relay on loopback.</summary>
    public int RelayAgentPort { get; init; } = 67;

    /// <summary>
    /// Base of the HTTP URLs given to UEFI HTTP boot and iPXE: <c>{server}</c> is replaced by our address on the link
    /// that received the request. URLs are <c>{HttpBase}/boot/{file}</c>. Must match where the boot server's HTTP
    /// endpoints listen.
    /// </summary>
    public string HttpBase { get; init; } = "http://{server}:8080";

    /// <summary>Lease time of new and renewed leases (for the lease store).</summary>
    public TimeSpan LeaseTime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long an OFFER holds its address for the client before anyone else can be offered it (for the lease store).</summary>
    public TimeSpan OfferHoldTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a declined address stays out of the pool (for the lease store; Kea's default probation).</summary>
    public TimeSpan DeclineQuarantineTime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Requests handled at once (each may wait on the lease store); the receive loops pause when all are busy.</summary>
    public int MaxConcurrentRequests { get; init; } = 512;

    /// <summary>Codec limits, enforced on every datagram. (A fresh instance: configuration binding writes into it, so it must not be the shared <see cref="DhcpLimits.Default"/>.)</summary>
    public DhcpLimits Limits { get; init; } = new();

    /// <summary>File names per boot path.</summary>
    public BootDecisionOptions Boot { get; init; } = new();

    /// <summary>Interval of unsolicited router advertisements on interfaces that send them (they also answer router solicitations).</summary>
    public TimeSpan RouterAdvertisementInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Give iPXE clients our iPXE binary over TFTP once before their script (per MAC, within <see cref="ChainIpxeWindow"/>).</summary>
    public bool ChainIpxe { get; init; }

    public TimeSpan ChainIpxeWindow { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>One interface the server answers on.</summary>
public sealed record DhcpInterfaceOptions
{
    /// <summary>The interface name, e.g. <c>br0</c>. The sockets are bound to it (SO_BINDTODEVICE).</summary>
    public string Name { get; init; } = "";

    /// <summary>Proxy (the default, never allocates) or Authoritative.</summary>
    public DhcpMode Mode { get; init; } = DhcpMode.Proxy;

    /// <summary>Our IPv4 address on the link (server identifier, TFTP/HTTP server). Default: the interface's first IPv4 address.</summary>
    public string? Address { get; init; }

    /// <summary>
    /// Send IPv6 router advertisements with router lifetime 0 on this interface (to ff02::1, periodically and in answer
    /// to router solicitations), so iPXE does not wait 13–16 s for IPv6 autoconfiguration on a link without an IPv6
    /// router. They announce no prefix and no default route. Off by default.
    /// </summary>
    public bool RouterAdvertisements { get; init; }
}
