using System.Net;
using System.Net.NetworkInformation;

namespace NekkoMetal.Dhcp.Server;

/// <summary>What the handler knows about the client and where the request came in.</summary>
/// <param name="Mac">The client's hardware address (<c>chaddr</c>, <c>hlen</c> bytes; 6 for Ethernet).</param>
/// <param name="ClientId">Option 61 as sent (usually 01 followed by the MAC); empty when absent. When present it, not
/// the MAC, identifies the client (RFC 2131 §4.2).</param>
/// <param name="LinkAddress"><c>giaddr</c> when relayed, else our IPv4 address on the receiving interface: selects the
/// subnet (RFC 2131 §4.3.1).</param>
/// <param name="Interface">The receiving interface (e.g. <c>br0</c>), null when unknown.</param>
/// <param name="RequestedAddress">Option 50, else <c>ciaddr</c> when set, else null.</param>
/// <param name="HostName">Option 12.</param>
/// <param name="MachineUuid">Option 97 (SMBIOS system UUID of PXE firmware and iPXE).</param>
/// <param name="ServerId">Our address on that link: what goes into option 54.</param>
public sealed record LeaseRequest(
    PhysicalAddress Mac,
    ReadOnlyMemory<byte> ClientId,
    IPAddress LinkAddress,
    string? Interface,
    IPAddress? RequestedAddress,
    string? HostName,
    Guid? MachineUuid,
    IPAddress ServerId);

/// <summary>The configuration a client gets with (or, for INFORM, without) an address.</summary>
/// <param name="Address">The leased address (<c>yiaddr</c>). For INFORM, the client's own address (<c>ciaddr</c>).</param>
/// <param name="SubnetMask">Option 1.</param>
/// <param name="Router">Option 3, null for none.</param>
/// <param name="Dns">Option 6, empty for none.</param>
/// <param name="DomainName">Option 15.</param>
/// <param name="HostName">Option 12, null to send none.</param>
/// <param name="LeaseTime">Option 51; T1 (58) and T2 (59) are derived as 1/2 and 7/8 of it (RFC 2131 §4.4.5).
/// <see cref="Timeout.InfiniteTimeSpan"/> or anything from 2^32-1 seconds up is infinite (no T1/T2). Ignored for INFORM.</param>
public sealed record LeaseGrant(
    IPAddress Address,
    IPAddress SubnetMask,
    IPAddress? Router,
    IReadOnlyList<IPAddress> Dns,
    string? DomainName,
    string? HostName,
    TimeSpan LeaseTime);

public enum LeaseOutcome
{
    /// <summary>Address held (OFFER) or leased (ACK): <see cref="LeaseResult.Grant"/> is set.</summary>
    Granted,

    /// <summary>The client asked for an address it cannot have (wrong network, another client's, unknown lease): DHCPNAK.</summary>
    Nak,

    /// <summary>Not for us to answer (e.g. a REQUEST for another server's offer): stay silent.</summary>
    NotOurs,

    /// <summary>Pool empty or no subnet for this link: stay silent, log.</summary>
    NoAddress,
}

/// <param name="Outcome">What to do.</param>
/// <param name="Grant">Set when <paramref name="Outcome"/> is <see cref="LeaseOutcome.Granted"/>.</param>
/// <param name="Reason">Why, in words: logged, and sent in option 56 of a DHCPNAK. Never client bytes.</param>
public sealed record LeaseResult(LeaseOutcome Outcome, LeaseGrant? Grant, string? Reason)
{
    public static LeaseResult Granted(LeaseGrant grant) => new(LeaseOutcome.Granted, grant ?? throw new ArgumentNullException(nameof(grant)), null);

    public static LeaseResult Nak(string reason) => new(LeaseOutcome.Nak, null, reason);

    public static LeaseResult NotOurs(string reason) => new(LeaseOutcome.NotOurs, null, reason);

    public static LeaseResult NoAddress(string reason) => new(LeaseOutcome.NoAddress, null, reason);
}

/// <summary>
/// Address allocation for authoritative DHCP: the seam between the DHCP handler and the inventory, whose
/// implementation keeps leases in etcd shared by all boot servers (several boot servers on one segment must never
/// hand one address to two clients). The handler has already checked the message (type, option 54 against our
/// address, required fields); the store decides addresses, with RFC 2131 semantics:
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A client is identified by <see cref="LeaseRequest.ClientId"/> when present, else by <see cref="LeaseRequest.Mac"/>.</item>
/// <item>The subnet is the one containing <see cref="LeaseRequest.LinkAddress"/>; none means
/// <see cref="LeaseOutcome.NoAddress"/> (DISCOVER) or <see cref="LeaseOutcome.NotOurs"/> (REQUEST): silence.</item>
/// <item>Calls are concurrent (many requests in flight) and may be repeated (clients retransmit): every operation is
/// idempotent for the same client.</item>
/// <item>Nothing here may probe the network (no ping before an offer).</item>
/// </list>
/// </remarks>
public interface IDhcpLeaseStore
{
    /// <summary>
    /// DISCOVER (RFC 2131 §4.3.1): pick an address and hold it briefly for this client — its current or last lease
    /// on the subnet if still free, else the requested address if free, else any free one — never a quarantined one.
    /// </summary>
    ValueTask<LeaseResult> OfferAsync(LeaseRequest request, CancellationToken ct);

    /// <summary>
    /// REQUEST (RFC 2131 §4.3.2). <paramref name="selecting"/>: option 54 named us (SELECTING, <paramref name="address"/>
    /// from option 50) — commit the offer, or the address if still free. Otherwise INIT-REBOOT (option 50), RENEWING or
    /// REBINDING (<c>ciaddr</c>): extend the client's lease on that address; an address outside the link's subnet,
    /// another client's, quarantined, or one we have no lease for is a NAK (we are authoritative for our subnets).
    /// </summary>
    ValueTask<LeaseResult> RequestAsync(LeaseRequest request, IPAddress address, bool selecting, CancellationToken ct);

    /// <summary>
    /// The client chose another server's offer (a REQUEST whose option 54 names another server, RFC 2131 §4.3.2):
    /// the address offered to it here is free again at once. Never blocks.
    /// </summary>
    void WithdrawOffer(LeaseRequest request);

    /// <summary>RELEASE (RFC 2131 §4.4.6): free <paramref name="address"/> if it is this client's lease; else nothing.</summary>
    ValueTask ReleaseAsync(LeaseRequest request, IPAddress address, CancellationToken ct);

    /// <summary>DECLINE (RFC 2131 §4.3.3): the client found <paramref name="address"/> in use: quarantine it (not offered to anyone for a while) and drop the client's lease on it.</summary>
    ValueTask DeclineAsync(LeaseRequest request, IPAddress address, CancellationToken ct);

    /// <summary>INFORM (RFC 2131 §4.3.5): the configuration for the link without an address (<c>yiaddr</c> stays 0); null to stay silent.</summary>
    ValueTask<LeaseGrant?> InformAsync(LeaseRequest request, CancellationToken ct);
}
