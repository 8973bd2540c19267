using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Etcdserverpb;
using NekkoMetal.Inventory.Ipam;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Dhcp;

public enum DhcpLeaseOutcome
{
    Granted,
    Nak,
    NotOurs,
    NoAddress,
}

/// <summary>The store's answer: an address and the subnet it is configured from, or why not.</summary>
public sealed record DhcpLeaseAnswer(DhcpLeaseOutcome Outcome, uint Address, ResolvedSubnet? Subnet, string? HostName, TimeSpan LeaseTime, string? Reason)
{
    public static DhcpLeaseAnswer No(DhcpLeaseOutcome outcome, string reason) => new(outcome, 0, null, null, TimeSpan.Zero, reason);
}

/// <summary>
/// DHCP address allocation shared by every boot server through etcd, with RFC 2131 semantics. Machines in the
/// inventory get their IPAM address (no etcd write: the address key already makes it theirs); machines not known
/// yet get an address from the subnet's DHCP range, held in <c>dhcp/leases/{ip}</c> and written with
/// create-if-absent or compare-on-revision, so two boot servers never lease one address to two clients. A lost
/// race picks the next free address. Declined addresses are quarantined; no address is ever probed with a ping.
/// </summary>
public sealed partial class DhcpLeaseRepository(InventoryContext ctx)
{
    /// <summary>How long an offered address is held for the client that was offered it.</summary>
    public static readonly TimeSpan OfferHold = TimeSpan.FromSeconds(60);

    /// <summary>How long a declined address stays out of the pool.</summary>
    public static readonly TimeSpan Quarantine = TimeSpan.FromMinutes(10);

    private readonly HashSet<uint> _inFlight = [];
    private readonly ConcurrentDictionary<uint, long> _seenTaken = new();

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex HostLabel();

    private InventoryCache Cache => ctx.Cache;

    public ResolvedSubnet? SubnetFor(uint linkAddress) => Cache.Subnets.FirstOrDefault(s => s.Contains(linkAddress));

    /// <summary>The inventory machine owning <paramref name="mac"/> whose IPAM address lies in <paramref name="subnet"/>.</summary>
    private (Machine Machine, uint Address)? Known(string mac, ResolvedSubnet subnet)
    {
        if (Cache.OwnerOfMac(mac) is not { } serial || Cache.GetMachine(serial) is not { } machine)
        {
            return null;
        }

        foreach (var ip in machine.Ipv4)
        {
            if (Ipv4.TryParse(ip, out var a) && subnet.Contains(a))
            {
                return (machine, a);
            }
        }

        return null;
    }

    private static string? HostNameOf(Machine m)
    {
        var name = m.Serial.ToLowerInvariant();
        return HostLabel().IsMatch(name) ? name : null;
    }

    private static DhcpLeaseAnswer Fixed((Machine Machine, uint Address) known, ResolvedSubnet subnet) =>
        new(DhcpLeaseOutcome.Granted, known.Address, subnet, HostNameOf(known.Machine), subnet.LeaseTime, null);

    public async Task<DhcpLeaseAnswer> OfferAsync(string client, string mac, uint link, uint? requested, string? hostName, CancellationToken ct)
    {
        await ctx.EnsureReadyAsync(ct);
        if (SubnetFor(link) is not { } subnet)
        {
            return DhcpLeaseAnswer.No(DhcpLeaseOutcome.NoAddress, $"no IPAM subnet contains {Ipv4.Format(link)}");
        }

        if (Known(mac, subnet) is { } known)
        {
            return Fixed(known, subnet);
        }

        if (subnet.DhcpStart is null)
        {
            return DhcpLeaseAnswer.No(DhcpLeaseOutcome.NoAddress, $"subnet '{subnet.Name}' has no DHCP range for machines not in the inventory");
        }

        for (var attempt = 0; attempt <= ctx.Options.MaxCasRetries; attempt++)
        {
            var now = ctx.Time.GetUtcNow();
            if (Cache.LeaseOf(client) is { } mine && subnet.InDhcpRange(mine) && Cache.Lease(mine) is { } held &&
                held.Client == client && held.State is DhcpLeaseState.Bound or DhcpLeaseState.Offered && held.ExpiresAt > now + TimeSpan.FromSeconds(5))
            {
                return new DhcpLeaseAnswer(DhcpLeaseOutcome.Granted, mine, subnet, hostName, subnet.LeaseTime, null); // already held: nothing to write
            }

            var candidate = Reserve(subnet, client, requested, now);
            if (candidate is not var (address, observed))
            {
                return DhcpLeaseAnswer.No(DhcpLeaseOutcome.NoAddress, $"the DHCP range of subnet '{subnet.Name}' is exhausted");
            }

            try
            {
                var lease = new DhcpLease
                {
                    Address = Ipv4.Format(address),
                    Client = client,
                    Mac = mac,
                    State = DhcpLeaseState.Offered,
                    ExpiresAt = now + OfferHold,
                    HostName = hostName,
                    UpdatedAt = now,
                };
                if (await TryWriteAsync(lease, observed, ct))
                {
                    return new DhcpLeaseAnswer(DhcpLeaseOutcome.Granted, address, subnet, hostName, subnet.LeaseTime, null);
                }
            }
            finally
            {
                lock (_inFlight)
                {
                    _inFlight.Remove(address);
                }
            }
        }

        return DhcpLeaseAnswer.No(DhcpLeaseOutcome.NoAddress, "lost every race for a free address; the client will retry");
    }

    public async Task<DhcpLeaseAnswer> RequestAsync(string client, string mac, uint link, uint address, string? hostName, CancellationToken ct)
    {
        await ctx.EnsureReadyAsync(ct);
        if (SubnetFor(link) is not { } subnet || !subnet.Contains(address))
        {
            return DhcpLeaseAnswer.No(DhcpLeaseOutcome.Nak, "the requested address is not on this network");
        }

        if (Known(mac, subnet) is { } known)
        {
            return known.Address == address
                ? Fixed(known, subnet)
                : DhcpLeaseAnswer.No(DhcpLeaseOutcome.Nak, "this machine has another address in the inventory");
        }

        if (!subnet.InDhcpRange(address))
        {
            return DhcpLeaseAnswer.No(DhcpLeaseOutcome.Nak, "the requested address is not in the DHCP range");
        }

        for (var attempt = 0; attempt <= ctx.Options.MaxCasRetries; attempt++)
        {
            var now = ctx.Time.GetUtcNow();
            var current = await ReadAsync(address, ct);
            if (current is not null && current.Client != client && !current.IsFreeAt(now))
            {
                return DhcpLeaseAnswer.No(DhcpLeaseOutcome.Nak, "the requested address is leased to another client");
            }

            if (current is { State: DhcpLeaseState.Declined } && !current.IsFreeAt(now))
            {
                return DhcpLeaseAnswer.No(DhcpLeaseOutcome.Nak, "the requested address is quarantined after a decline");
            }

            var lease = new DhcpLease
            {
                Address = Ipv4.Format(address),
                Client = client,
                Mac = mac,
                State = DhcpLeaseState.Bound,
                ExpiresAt = now + subnet.LeaseTime,
                HostName = hostName ?? current?.HostName,
                UpdatedAt = now,
            };
            if (await TryWriteAsync(lease, current, ct))
            {
                return new DhcpLeaseAnswer(DhcpLeaseOutcome.Granted, address, subnet, lease.HostName, subnet.LeaseTime, null);
            }
        }

        return DhcpLeaseAnswer.No(DhcpLeaseOutcome.NotOurs, "the lease kept changing");
    }

    public async Task ReleaseAsync(string client, uint address, CancellationToken ct) =>
        await ChangeOwnAsync(client, address, (l, now) => l with { State = DhcpLeaseState.Released, ExpiresAt = now, UpdatedAt = now }, ct);

    public async Task DeclineAsync(string client, uint address, CancellationToken ct) =>
        await ChangeOwnAsync(client, address, (l, now) => l with { State = DhcpLeaseState.Declined, ExpiresAt = now + Quarantine, UpdatedAt = now }, ct);

    /// <summary>Configuration for a client that has its address already (DHCPINFORM).</summary>
    public DhcpLeaseAnswer Inform(uint link, uint clientAddress) =>
        SubnetFor(link) is { } subnet && subnet.Contains(clientAddress)
            ? new DhcpLeaseAnswer(DhcpLeaseOutcome.Granted, clientAddress, subnet, null, TimeSpan.Zero, null)
            : DhcpLeaseAnswer.No(DhcpLeaseOutcome.NoAddress, "the client's address is on no IPAM subnet");

    private async Task ChangeOwnAsync(string client, uint address, Func<DhcpLease, DateTimeOffset, DhcpLease> change, CancellationToken ct)
    {
        await ctx.EnsureReadyAsync(ct);
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var current = await ReadAsync(address, ct);
            if (current is null || current.Client != client)
            {
                return; // not this client's lease: nothing to do (RFC 2131 §4.3.4/§4.3.3)
            }

            if (await TryWriteAsync(change(current, ctx.Time.GetUtcNow()), current, ct))
            {
                return;
            }
        }
    }

    /// <summary>
    /// The address to try: the one requested if it is in range and free, else the lowest free one; neither
    /// taken by a live lease, nor in flight in this process, nor seen taken in a race the cache has not caught up with.
    /// </summary>
    private (uint Address, DhcpLease? Observed)? Reserve(ResolvedSubnet subnet, string client, uint? requested, DateTimeOffset now)
    {
        var cacheRevision = Cache.Revision;
        foreach (var (a, seenAt) in _seenTaken)
        {
            if (seenAt <= cacheRevision)
            {
                _seenTaken.TryRemove(a, out _);
            }
        }

        DhcpLease? seen = null;
        bool Free(uint a)
        {
            seen = Cache.Lease(a); // one read: the CAS expects exactly what was judged free
            return !_inFlight.Contains(a) && !_seenTaken.ContainsKey(a) && a != subnet.Gateway &&
                (seen is not { } l || l.Client == client && l.State != DhcpLeaseState.Declined || l.IsFreeAt(now));
        }

        lock (_inFlight)
        {
            uint? pick = null;
            if (requested is { } r && subnet.InDhcpRange(r) && Free(r))
            {
                pick = r;
            }
            else
            {
                for (var a = subnet.DhcpStart!.Value; a <= subnet.DhcpEnd!.Value && a >= subnet.DhcpStart.Value; a++)
                {
                    if (Free(a))
                    {
                        pick = a;
                        break;
                    }
                }
            }

            if (pick is { } p)
            {
                _inFlight.Add(p);
                return (p, seen);
            }

            return null;
        }
    }

    /// <summary>Writes <paramref name="lease"/> if the key is still as <paramref name="expected"/> was (absent when null).</summary>
    private async Task<bool> TryWriteAsync(DhcpLease lease, DhcpLease? expected, CancellationToken ct)
    {
        var key = ctx.Keys.DhcpLease(lease.Address);
        var txn = new TxnRequest();
        txn.Compare.Add(expected is null ? Txn.Absent(key) : Txn.ModRevisionIs(key, expected.Revision));
        txn.Success.Add(Txn.Put(key, InventoryJson.ToBytes(lease with { Revision = 0 })));
        txn.Failure.Add(Txn.Get(key));
        var response = await ctx.Store.TxnAsync(txn, ct);
        if (response.Succeeded)
        {
            await ctx.ReadBackAsync(response.Header.Revision, ct);
            return true;
        }

        if (Ipv4.TryParse(lease.Address, out var a) && response.Responses[0].ResponseRange.Kvs is { Count: > 0 } kvs)
        {
            _seenTaken[a] = kvs[0].ModRevision;
        }

        return false;
    }

    private async Task<DhcpLease?> ReadAsync(uint address, CancellationToken ct)
    {
        var response = await ctx.Store.GetAsync(ctx.Keys.DhcpLease(Ipv4.Format(address)), ct);
        return response.Kvs.Count == 0 ? null : InventoryJson.FromBytes<DhcpLease>(response.Kvs[0].Value) with { Revision = response.Kvs[0].ModRevision };
    }
}
