using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Tests.Server;

/// <summary>
/// An in-memory <see cref="IDhcpLeaseStore"/> for the DHCP tests, and the reference for its semantics: the real store
/// is etcd-backed and lives in the inventory (<c>src/Inventory</c>); it must behave like this one (its own tests are
/// in <see cref="InMemoryLeaseStoreTests"/>). RFC 2131 rules, as implemented here:
/// <list type="bullet">
/// <item>A client is its option 61 when present, else its MAC. The subnet is the one containing the link address
/// (giaddr, or our address on the interface).</item>
/// <item>OFFER: the client's own (even expired or released) address if no one else took it, else the requested
/// address if free, else a never-used address, else the one expired longest ago. The address is held for
/// <see cref="DhcpServerOptions.OfferHoldTime"/>. Quarantined addresses are never offered.</item>
/// <item>REQUEST: outside the subnet, outside the pool, quarantined, or held/leased by another client: NAK. The
/// client's own address: ACK. A free address: ACK when SELECTING (our offer's hold lapsed), NAK otherwise (we have
/// no lease for that client: INIT-REBOOT, RENEWING, REBINDING). No subnet for the link: silent. A client holds one
/// lease per subnet: taking a new address frees its old one.</item>
/// <item>RELEASE frees the client's own address (kept as its last address). DECLINE quarantines the address for
/// <see cref="DhcpServerOptions.DeclineQuarantineTime"/> and drops the client's lease on it.</item>
/// <item>Expiry is read from the <see cref="TimeProvider"/>: nothing runs in the background.</item>
/// </list>
/// </summary>
public sealed class InMemoryLeaseStore : IDhcpLeaseStore
{
    private readonly TimeProvider _time;
    private readonly DhcpServerOptions _options;
    private readonly List<InMemorySubnet> _subnets;
    private readonly Dictionary<uint, Lease> _leases = [];
    private readonly Dictionary<uint, DateTimeOffset> _quarantine = [];
    private readonly Dictionary<string, string> _hostNames = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public InMemoryLeaseStore(TimeProvider time, DhcpServerOptions options, params InMemorySubnet[] subnets)
    {
        _time = time;
        _options = options;
        _subnets = [.. subnets];
    }

    public enum LeaseState
    {
        Offered,
        Bound,
        Released,
    }

    public sealed record LeaseView(IPAddress Address, string Client, LeaseState State, DateTimeOffset Expires, bool Active);

    /// <summary>A host name handed out with leases of that MAC (option 12), as the inventory knows machine names.</summary>
    public void SetHostName(PhysicalAddress mac, string hostName)
    {
        lock (_gate)
        {
            _hostNames[mac.ToString()] = hostName;
        }
    }

    public IReadOnlyList<LeaseView> Leases
    {
        get
        {
            lock (_gate)
            {
                var now = _time.GetUtcNow();
                return [.. _leases.Values.OrderBy(l => l.Address).Select(l => new LeaseView(ToAddress(l.Address), l.Client, l.State, l.Expires, IsActive(l, now)))];
            }
        }
    }

    public bool IsQuarantined(IPAddress address)
    {
        lock (_gate)
        {
            return IsQuarantined(ToUInt(address), _time.GetUtcNow());
        }
    }

    public ValueTask<LeaseResult> OfferAsync(LeaseRequest request, CancellationToken ct)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (FindSubnet(request.LinkAddress) is not { } subnet)
            {
                return new(LeaseResult.NoAddress($"no subnet for link {request.LinkAddress}"));
            }

            var client = ClientKey(request);
            var address = PickAddress(subnet, client, request.RequestedAddress, now);
            if (address is not { } chosen)
            {
                return new(LeaseResult.NoAddress($"pool {subnet.RangeStart}-{subnet.RangeEnd} is full"));
            }

            if (_leases.TryGetValue(chosen, out var existing) && existing.Client == client && existing.State == LeaseState.Bound && existing.Expires > now)
            {
                // Already bound to this client (e.g. a reboot): offer it without shortening the lease.
            }
            else
            {
                ReleaseOtherLeases(subnet, client, chosen);
                _leases[chosen] = new Lease(chosen, client, LeaseState.Offered, now + _options.OfferHoldTime);
            }

            return new(LeaseResult.Granted(Grant(subnet, chosen, request)));
        }
    }

    public ValueTask<LeaseResult> RequestAsync(LeaseRequest request, IPAddress address, bool selecting, CancellationToken ct)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (FindSubnet(request.LinkAddress) is not { } subnet)
            {
                return new(LeaseResult.NotOurs($"no subnet for link {request.LinkAddress}"));
            }

            var a = ToUInt(address);
            if (!subnet.Network.Contains(address))
            {
                return new(LeaseResult.Nak($"{address} is not on this network ({subnet.Network})"));
            }

            if (!subnet.InRange(a) || subnet.IsReserved(a))
            {
                return new(LeaseResult.Nak($"{address} is not in the pool"));
            }

            if (IsQuarantined(a, now))
            {
                return new(LeaseResult.Nak($"{address} is quarantined after a DECLINE"));
            }

            var client = ClientKey(request);
            if (_leases.TryGetValue(a, out var lease) && lease.Client != client)
            {
                if (IsActive(lease, now))
                {
                    return new(LeaseResult.Nak($"{address} is leased to another client"));
                }

                if (!selecting)
                {
                    return new(LeaseResult.Nak($"no lease of {address} for this client"));
                }
            }
            else if (lease is null && !selecting)
            {
                return new(LeaseResult.Nak($"no lease of {address} for this client"));
            }

            ReleaseOtherLeases(subnet, client, a);
            _leases[a] = new Lease(a, client, LeaseState.Bound, LeaseExpiry(now));
            return new(LeaseResult.Granted(Grant(subnet, a, request)));
        }
    }

    public void WithdrawOffer(LeaseRequest request)
    {
        lock (_gate)
        {
            WithdrawnOffers++;
            foreach (var (a, lease) in _leases.Where(l => l.Value.Client == ClientKey(request) && l.Value.State == LeaseState.Offered).ToList())
            {
                _leases.Remove(a);
            }
        }
    }

    /// <summary>How often <see cref="WithdrawOffer"/> was called.</summary>
    public int WithdrawnOffers { get; private set; }

    public ValueTask ReleaseAsync(LeaseRequest request, IPAddress address, CancellationToken ct)
    {
        lock (_gate)
        {
            var a = ToUInt(address);
            if (_leases.TryGetValue(a, out var lease) && lease.Client == ClientKey(request))
            {
                _leases[a] = lease with { State = LeaseState.Released, Expires = _time.GetUtcNow() };
            }

            return ValueTask.CompletedTask;
        }
    }

    public ValueTask DeclineAsync(LeaseRequest request, IPAddress address, CancellationToken ct)
    {
        lock (_gate)
        {
            var a = ToUInt(address);
            if (FindSubnet(request.LinkAddress) is not { } subnet || !subnet.InRange(a))
            {
                return ValueTask.CompletedTask;
            }

            _quarantine[a] = _time.GetUtcNow() + _options.DeclineQuarantineTime;
            if (_leases.TryGetValue(a, out var lease) && lease.Client == ClientKey(request))
            {
                _leases.Remove(a);
            }

            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<LeaseGrant?> InformAsync(LeaseRequest request, CancellationToken ct)
    {
        lock (_gate)
        {
            if (FindSubnet(request.LinkAddress) is not { } subnet)
            {
                return new((LeaseGrant?)null);
            }

            var address = request.RequestedAddress ?? IPAddress.Any;
            return new(Grant(subnet, ToUInt(address), request));
        }
    }

    private uint? PickAddress(InMemorySubnet subnet, string client, IPAddress? requested, DateTimeOffset now)
    {
        bool Usable(uint a) => subnet.InRange(a) && !IsQuarantined(a, now) && !subnet.IsReserved(a);

        // 1. The client's own address, current or last (it keeps its address across reboots).
        var own = _leases.Values
            .Where(l => l.Client == client && subnet.InRange(l.Address) && Usable(l.Address))
            .OrderByDescending(l => l.State == LeaseState.Bound).ThenByDescending(l => l.Expires)
            .FirstOrDefault();
        if (own is not null)
        {
            return own.Address;
        }

        // 2. The requested address (option 50), when free.
        if (requested is not null && subnet.Network.Contains(requested) && ToUInt(requested) is var r && Usable(r)
            && (!_leases.TryGetValue(r, out var taken) || !IsActive(taken, now)))
        {
            return r;
        }

        // 3. A never-used address, else the one that expired longest ago.
        for (var a = subnet.Start; a <= subnet.End && a != 0; a++)
        {
            if (Usable(a) && !_leases.ContainsKey(a))
            {
                return a;
            }
        }

        return _leases.Values
            .Where(l => subnet.InRange(l.Address) && Usable(l.Address) && !IsActive(l, now))
            .OrderBy(l => l.Expires)
            .Select(l => (uint?)l.Address)
            .FirstOrDefault();
    }

    private void ReleaseOtherLeases(InMemorySubnet subnet, string client, uint keep)
    {
        foreach (var other in _leases.Values.Where(l => l.Client == client && l.Address != keep && subnet.InRange(l.Address)).ToList())
        {
            _leases[other.Address] = other with { State = LeaseState.Released, Expires = _time.GetUtcNow() };
        }
    }

    private DateTimeOffset LeaseExpiry(DateTimeOffset now) =>
        _options.LeaseTime == Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue : now + _options.LeaseTime;

    private LeaseGrant Grant(InMemorySubnet subnet, uint address, LeaseRequest request)
    {
        _hostNames.TryGetValue(request.Mac.ToString(), out var hostName);
        return new LeaseGrant(ToAddress(address), subnet.Mask, subnet.Router, subnet.Dns, subnet.DomainName, hostName, _options.LeaseTime);
    }

    private InMemorySubnet? FindSubnet(IPAddress linkAddress) => _subnets.FirstOrDefault(s => s.Network.Contains(linkAddress));

    private bool IsQuarantined(uint address, DateTimeOffset now) => _quarantine.TryGetValue(address, out var until) && until > now;

    private static bool IsActive(Lease lease, DateTimeOffset now) => lease.State != LeaseState.Released && lease.Expires > now;

    private static string ClientKey(LeaseRequest request) =>
        request.ClientId.IsEmpty ? "mac:" + request.Mac : "id:" + Convert.ToHexString(request.ClientId.Span);

    internal static uint ToUInt(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    internal static IPAddress ToAddress(uint address)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
        return new IPAddress(bytes);
    }

    private sealed record Lease(uint Address, string Client, LeaseState State, DateTimeOffset Expires);
}

/// <summary>A subnet and its dynamic pool.</summary>
public sealed record InMemorySubnet(IPNetwork Network, IPAddress RangeStart, IPAddress RangeEnd, IPAddress? Router, IReadOnlyList<IPAddress> Dns, string? DomainName)
{
    public IPAddress Mask
    {
        get
        {
            var bits = Network.PrefixLength == 0 ? 0u : uint.MaxValue << (32 - Network.PrefixLength);
            return InMemoryLeaseStore.ToAddress(bits);
        }
    }

    internal uint Start => InMemoryLeaseStore.ToUInt(RangeStart);

    internal uint End => InMemoryLeaseStore.ToUInt(RangeEnd);

    internal bool InRange(uint address) => address >= Start && address <= End;

    /// <summary>The router is never handed out, even inside the range.</summary>
    internal bool IsReserved(uint address) => Router is not null && InMemoryLeaseStore.ToUInt(Router) == address;

    public static InMemorySubnet Parse(string network, string start, string end, string? router = null, string? dns = null, string? domain = null) =>
        new(IPNetwork.Parse(network), IPAddress.Parse(start), IPAddress.Parse(end),
            router is null ? null : IPAddress.Parse(router),
            dns is null ? [] : [.. dns.Split(',').Select(IPAddress.Parse)],
            domain);
}
