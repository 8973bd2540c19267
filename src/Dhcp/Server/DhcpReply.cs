using System.Net;
using System.Net.NetworkInformation;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Server;

/// <summary>An interface as the handler sees it: resolved from <see cref="DhcpInterfaceOptions"/> by the transport.</summary>
/// <param name="Name">Interface name, e.g. <c>br0</c>.</param>
/// <param name="Mode">How to answer on it.</param>
/// <param name="Address">Our IPv4 address on it: server identifier, TFTP server, <c>{server}</c> of the HTTP base.</param>
public sealed record DhcpLink(string Name, DhcpMode Mode, IPAddress Address);

/// <summary>Which socket a request arrived on.</summary>
public enum DhcpListenerKind
{
    /// <summary>The DHCP server port (67).</summary>
    Server = 0,

    /// <summary>The PXE boot server / proxyDHCP port (4011).</summary>
    Proxy = 1,
}

/// <summary>One decoded request and where it came from.</summary>
/// <param name="Message">The decoded datagram.</param>
/// <param name="Link">The interface it arrived on.</param>
/// <param name="ReceivedOn">The server port or the PXE port.</param>
/// <param name="Source">The sender (a client, or a relay agent at <c>giaddr</c>).</param>
/// <param name="LocalAddress">The datagram's destination address (IP_PKTINFO): 255.255.255.255 for a broadcast, our
/// address for a unicast; null when unknown.</param>
public sealed record DhcpRequestContext(DhcpMessage Message, DhcpLink Link, DhcpListenerKind ReceivedOn, IPEndPoint Source, IPAddress? LocalAddress = null);

/// <summary>How a reply travels (RFC 2131 §4.1).</summary>
public enum DhcpDestinationKind
{
    /// <summary>Relayed request: unicast to the relay agent at <c>giaddr</c>, server port.</summary>
    RelayAgent = 0,

    /// <summary>Unicast to an address the client already has (<c>ciaddr</c>, or the source of a PXE-port request).</summary>
    Unicast = 1,

    /// <summary>To 255.255.255.255 on the link: the broadcast bit was set, or a NAK.</summary>
    Broadcast = 2,

    /// <summary>
    /// RFC 2131 §4.1 says: unicast to <c>yiaddr</c> and <c>chaddr</c>, which needs an ARP entry the client cannot
    /// answer for yet. The transport broadcasts instead (what dnsmasq does when it cannot write ARP entries): every
    /// client must accept a broadcast reply, and it saves a privileged ARP-table write per lease.
    /// </summary>
    ClientHardwareAddress = 3,
}

/// <param name="Kind">How it travels.</param>
/// <param name="EndPoint">Address and port: the relay, the client's address, 255.255.255.255, or <c>yiaddr</c> for
/// <see cref="DhcpDestinationKind.ClientHardwareAddress"/>.</param>
/// <param name="HardwareAddress">The client's <c>chaddr</c> for <see cref="DhcpDestinationKind.ClientHardwareAddress"/>.</param>
public sealed record DhcpDestination(DhcpDestinationKind Kind, IPEndPoint EndPoint, PhysicalAddress? HardwareAddress = null)
{
    /// <summary>Where the datagram is actually sent: the broadcast address for <see cref="DhcpDestinationKind.ClientHardwareAddress"/>.</summary>
    public IPEndPoint SendTo => Kind == DhcpDestinationKind.ClientHardwareAddress ? new IPEndPoint(IPAddress.Broadcast, EndPoint.Port) : EndPoint;
}

/// <summary>A reply and where it goes.</summary>
public sealed record DhcpReply(DhcpMessage Message, DhcpDestination Destination)
{
    public DhcpMessageType Type => Message.Options.MessageType ?? throw new InvalidOperationException("A reply always has a message type.");
}
