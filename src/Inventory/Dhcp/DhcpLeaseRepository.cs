using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
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
/// yet get an address from the subnet's DHCP range.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Offers are held in memory only (an offer is not a commitment, RFC 2131 §4.3.1): no etcd write per DISCOVER.
/// Each boot server makes its offers from blocks of the range it has claimed in etcd
/// (<see cref="DhcpAddressBlocks"/>), so several servers on one segment do not offer one address twice; within
/// its blocks a server allocates next-fit from a cursor, so an offer costs a few dictionary lookups, not a scan.</item>
/// <item>A lease is bound by REQUEST with a compare-and-swap on <c>dhcp/leases/{ip}</c> (create-if-absent or
/// compare on revision) through <see cref="DhcpLeaseCommitter"/>, which groups the writes of concurrent clients
/// into one transaction; the ACK goes out only once the lease is committed in etcd. This CAS, not the blocks, is
/// what guarantees that two clients never hold one address; a lost race is a NAK (the client starts again).</item>
/// <item>REQUESTs decide on this server's watch-fed cache (no read from etcd); a stale cache shows up as a failed
/// compare, whose failure branch brings the current lease to decide again.</item>
/// <item>Declined addresses are quarantined; no address is ever probed with a ping.</item>
/// </list>
/// </remarks>
public sealed partial class DhcpLeaseRepository : IAsyncDisposable
{
    /// <summary>How long an offered address is held for the client that was offered it.</summary>
    public static readonly TimeSpan OfferHold = TimeSpan.FromSeconds(60);

    /// <summary>How long a declined address stays out of the pool.</summary>
    public static readonly TimeSpan Quarantine = TimeSpan.FromMinutes(10);

    /// <summary>How often exhausted blocks are searched again for addresses freed since (released or expired).</summary>
    private static readonly TimeSpan RescanInterval = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);

    private readonly InventoryContext _ctx;
    private readonly DhcpLeaseCommitter _committer;
    private readonly DhcpAddressBlocks _blocks;

    /// <summary>Guards the holds and the pools.</summary>
    private readonly Lock _gate = new();

    /// <summary>Addresses this server holds for a client: offered, or being committed.</summary>
    private readonly Dictionary<uint, Hold> _holds = [];

    /// <summary>The address offered to each client (its entry in <see cref="_holds"/>).</summary>
    private readonly Dictionary<string, uint> _offerOf = new(StringComparer.Ordinal);

    private readonly Dictionary<ResolvedSubnet, Pool> _pools = new(ReferenceEqualityComparer.Instance);

    /// <summary>Addresses a failed compare showed taken, until the cache reaches that revision.</summary>
    private readonly ConcurrentDictionary<uint, long> _seenTaken = new();

    private DateTimeOffset _nextSweep;
    private int _disposed;

    public DhcpLeaseRepository(InventoryContext ctx, ILogger<DhcpLeaseRepository> logger)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        _ctx = ctx;
        _committer = new DhcpLeaseCommitter(ctx);
        _blocks = new DhcpAddressBlocks(ctx, logger);
        _blocks.ClaimsLost += () =>
        {
            lock (_gate)
            {
                _pools.Clear();
            }
        };
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex HostLabel();

    private InventoryCache Cache => _ctx.Cache;

    /// <summary>Lease transactions sent to etcd so far (each carries up to <see cref="DhcpLeaseCommitter.MaxBatch"/> leases).</summary>
    public long CommitTransactions => _committer.Transactions;

    /// <summary>Block claim rounds sent to etcd so far.</summary>
    internal long BlockClaimRounds => _blocks.ClaimRounds;

    /// <summary>This boot server's identity in DHCP block claims.</summary>
    public string ServerId => _blocks.ServerId;

    public ResolvedSubnet? SubnetFor(uint linkAddress)
    {
        foreach (var s in Cache.Subnets)
        {
            if (s.Contains(linkAddress))
            {
                return s;
            }
        }

        return null;
    }

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

    private static DhcpLeaseAnswer Granted(uint address, ResolvedSubnet subnet, string? hostName) =>
        new(DhcpLeaseOutcome.Granted, address, subnet, hostName, subnet.LeaseTime, null);

    /// <summary>DISCOVER: an address held for <paramref name="client"/> for <see cref="OfferHold"/>, in memory.</summary>
    public async ValueTask<DhcpLeaseAnswer> OfferAsync(string client, string mac, uint link, uint? requested, string? hostName, CancellationToken ct)
    {
        await _ctx.EnsureReadyAsync(ct);
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

        for (var attempt = 0; attempt < 4; attempt++)
        {
            var now = _ctx.Time.GetUtcNow();
            lock (_gate)
            {
                if (TryOfferLocked(subnet, client, requested, now, blocksOnly: true) is { } address)
                {
                    var pool = PoolOf(subnet);
                    if (pool.RunningLow && !pool.Claiming && now >= pool.NoClaimAheadUntil)
                    {
                        pool.Claiming = true;
                        _ = ClaimAheadAsync(subnet, pool);
                    }

                    return Granted(address, subnet, hostName);
                }
            }

            // None of this server's blocks has a free address: claim another block, then try again.
            var claimed = await ClaimBlockAsync(subnet, () => !PoolOf(subnet).HasRoom, ct);
            lock (_gate)
            {
                if (claimed is { } block)
                {
                    PoolOf(subnet).Add(block.First, block.Last);
                }
                else if (!PoolOf(subnet).HasRoom)
                {
                    break; // nothing left to claim
                }
            }
        }

        lock (_gate)
        {
            // Every block is claimed (or etcd refused a claim): any free address of the range. A clash with another
            // server's offer ends in one client's NAK at REQUEST, never in a duplicate lease.
            if (TryOfferLocked(subnet, client, requested, _ctx.Time.GetUtcNow(), blocksOnly: false) is { } address)
            {
                return Granted(address, subnet, hostName);
            }
        }

        return DhcpLeaseAnswer.No(DhcpLeaseOutcome.NoAddress, $"the DHCP range of subnet '{subnet.Name}' is exhausted");
    }

    private Task<(uint First, uint Last)?> ClaimBlockAsync(ResolvedSubnet subnet, Func<bool> stillNeeded, CancellationToken ct) =>
        _blocks.ClaimAsync(
            subnet,
            usable: (first, last) => { lock (_gate) { return AnyFreeLocked(subnet, first, last, _ctx.Time.GetUtcNow()); } },
            stillNeeded: () => { lock (_gate) { return stillNeeded(); } },
            ct);

    /// <summary>Claims the next block while the last one still has room, so that offers do not wait for etcd.</summary>
    private async Task ClaimAheadAsync(ResolvedSubnet subnet, Pool pool)
    {
        try
        {
            var block = await ClaimBlockAsync(subnet, () => pool.RunningLow, CancellationToken.None);
            lock (_gate)
            {
                if (block is { } b)
                {
                    pool.Add(b.First, b.Last);
                }
                else
                {
                    pool.NoClaimAheadUntil = _ctx.Time.GetUtcNow() + RescanInterval; // every block is taken: do not ask etcd per offer
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // stopping
        }
        finally
        {
            lock (_gate)
            {
                pool.Claiming = false;
            }
        }
    }

    /// <summary>The client's current offer, its last lease, the requested address, or the next free one; held for it.</summary>
    private uint? TryOfferLocked(ResolvedSubnet subnet, string client, uint? requested, DateTimeOffset now, bool blocksOnly)
    {
        SweepLocked(now);
        uint? pick = null;
        if (_offerOf.TryGetValue(client, out var offered) && subnet.InDhcpRange(offered) && FreeLocked(subnet, offered, client, now))
        {
            pick = offered; // a repeated DISCOVER gets the same address
        }
        else if (Cache.LeaseOf(client) is { } last && subnet.InDhcpRange(last) && FreeLocked(subnet, last, client, now))
        {
            pick = last; // RFC 2131 §4.3.1: the client's current or last address
        }
        else if (requested is { } r && subnet.InDhcpRange(r) && FreeLocked(subnet, r, client, now))
        {
            pick = r;
        }
        else
        {
            var pool = PoolOf(subnet);
            pick = pool.Next(a => FreeLocked(subnet, a, client, now), now);
            if (pick is null && !blocksOnly)
            {
                pick = pool.NextAnywhere(a => FreeLocked(subnet, a, client, now));
            }
        }

        if (pick is { } p)
        {
            HoldLocked(client, p, now + OfferHold, offer: true);
        }

        return pick;
    }

    private Pool PoolOf(ResolvedSubnet subnet)
    {
        if (!_pools.TryGetValue(subnet, out var pool))
        {
            // A new IPAM config replaces the subnet objects: forget pools of subnets that are gone.
            foreach (var old in _pools.Keys.Where(s => !Cache.Subnets.Contains(s)).ToList())
            {
                _pools.Remove(old);
            }

            _pools[subnet] = pool = new Pool(subnet);
        }

        return pool;
    }

    private bool AnyFreeLocked(ResolvedSubnet subnet, uint first, uint last, DateTimeOffset now)
    {
        for (var a = first; a <= last && a >= first; a++)
        {
            if (FreeLocked(subnet, a, client: null, now))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="a"/> may be offered to <paramref name="client"/>: not the gateway, not held by this
    /// server for another client, not seen taken in a lost race, and its lease (if any) free or the client's own.
    /// </summary>
    private bool FreeLocked(ResolvedSubnet subnet, uint a, string? client, DateTimeOffset now)
    {
        if (a == subnet.Gateway || (_holds.TryGetValue(a, out var hold) && hold.Client != client && hold.ExpiresAt > now))
        {
            return false;
        }

        if (_seenTaken.TryGetValue(a, out var seenAt))
        {
            if (seenAt > Cache.Revision)
            {
                return false;
            }

            _seenTaken.TryRemove(a, out _);
        }

        return Cache.Lease(a) is not { } l || (l.Client == client && l.State != DhcpLeaseState.Declined) || l.IsFreeAt(now);
    }

    private void HoldLocked(string client, uint address, DateTimeOffset until, bool offer)
    {
        if (_offerOf.TryGetValue(client, out var previous) && previous != address &&
            _holds.TryGetValue(previous, out var old) && old.Client == client)
        {
            _holds.Remove(previous);
        }

        _holds[address] = new Hold(client, until);
        if (offer)
        {
            _offerOf[client] = address;
        }
    }

    private void ReleaseHoldLocked(string client, uint address)
    {
        if (_holds.TryGetValue(address, out var hold) && hold.Client == client)
        {
            _holds.Remove(address);
        }

        if (_offerOf.TryGetValue(client, out var offered) && offered == address)
        {
            _offerOf.Remove(client);
        }
    }

    private void SweepLocked(DateTimeOffset now)
    {
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now + SweepInterval;
        List<uint>? expired = null;
        foreach (var (address, hold) in _holds)
        {
            if (hold.ExpiresAt <= now)
            {
                (expired ??= []).Add(address);
            }
        }

        foreach (var address in expired ?? [])
        {
            var client = _holds[address].Client;
            _holds.Remove(address);
            if (_offerOf.TryGetValue(client, out var offered) && offered == address)
            {
                _offerOf.Remove(client);
            }
        }
    }

    /// <summary>The client took another server's offer (REQUEST naming another server, RFC 2131 §4.3.2): free ours now.</summary>
    public void WithdrawOffer(string client)
    {
        lock (_gate)
        {
            if (_offerOf.TryGetValue(client, out var address))
            {
                ReleaseHoldLocked(client, address);
            }
        }
    }

    public async Task<DhcpLeaseAnswer> RequestAsync(string client, string mac, uint link, uint address, string? hostName, CancellationToken ct)
    {
        await _ctx.EnsureReadyAsync(ct);
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

        var current = Cache.Lease(address);
        for (var attempt = 0; attempt <= _ctx.Options.MaxCasRetries; attempt++)
        {
            var now = _ctx.Time.GetUtcNow();
            if (current is not null && current.Client != client && !current.IsFreeAt(now))
            {
                return DhcpLeaseAnswer.No(DhcpLeaseOutcome.Nak, "the requested address is leased to another client");
            }

            if (current is { State: DhcpLeaseState.Declined } && !current.IsFreeAt(now))
            {
                return DhcpLeaseAnswer.No(DhcpLeaseOutcome.Nak, "the requested address is quarantined after a decline");
            }

            lock (_gate)
            {
                if (_holds.TryGetValue(address, out var hold) && hold.Client != client && hold.ExpiresAt > now)
                {
                    return DhcpLeaseAnswer.No(DhcpLeaseOutcome.Nak, "the requested address is offered to another client");
                }

                HoldLocked(client, address, now + OfferHold, offer: false); // nobody else is offered it while it commits
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
            DhcpLeaseWriteResult result;
            try
            {
                result = await _committer.WriteAsync(lease, current?.Revision ?? 0, ct);
            }
            finally
            {
                lock (_gate)
                {
                    ReleaseHoldLocked(client, address); // committed: the cache shows the lease now; else: not held
                }
            }

            if (result.Committed)
            {
                return Granted(address, subnet, lease.HostName);
            }

            current = result.Current;
            if (current is not null)
            {
                _seenTaken[address] = current.Revision;
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
        await _ctx.EnsureReadyAsync(ct);
        lock (_gate)
        {
            ReleaseHoldLocked(client, address);
        }

        var current = Cache.Lease(address);
        for (var attempt = 0; attempt < 8; attempt++)
        {
            if (current is null || current.Client != client)
            {
                return; // not this client's lease: nothing to do (RFC 2131 §4.3.4/§4.3.3)
            }

            var result = await _committer.WriteAsync(change(current, _ctx.Time.GetUtcNow()), current.Revision, ct);
            if (result.Committed)
            {
                return;
            }

            current = result.Current;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _committer.DisposeAsync();
        await _blocks.DisposeAsync();
    }

    private readonly record struct Hold(string Client, DateTimeOffset ExpiresAt);

    /// <summary>This server's blocks of one subnet's DHCP range and its cursors in them.</summary>
    private sealed class Pool(ResolvedSubnet subnet)
    {
        private readonly List<Block> _blocks = [];
        private int _cursor;
        private uint _anywhere = subnet.DhcpStart ?? 0;
        private DateTimeOffset _lastRescan = DateTimeOffset.MinValue;

        /// <summary>Whether some block still has addresses not looked at since the last rescan.</summary>
        public bool HasRoom => _blocks.Exists(b => !b.Full);

        /// <summary>A claim ahead is under way.</summary>
        public bool Claiming { get; set; }

        /// <summary>The last claim ahead found no block: the next waits until then.</summary>
        public DateTimeOffset NoClaimAheadUntil { get; set; }

        /// <summary>At most one block has room left, and less than half of it: time to claim the next one.</summary>
        public bool RunningLow
        {
            get
            {
                Block? open = null;
                foreach (var b in _blocks)
                {
                    if (!b.Full)
                    {
                        if (open is not null)
                        {
                            return false;
                        }

                        open = b;
                    }
                }

                return open is null || open.Last - open.Next < (open.Last - open.First + 1) / 2;
            }
        }

        /// <summary>Adds a claimed block; one already here (ours, found to have free addresses again) is searched again from its start.</summary>
        public void Add(uint first, uint last)
        {
            if (_blocks.Find(b => b.First == first) is { } known)
            {
                known.Next = known.First;
                known.Full = false;
                return;
            }

            _blocks.Add(new Block(first, last));
            _blocks.Sort((x, y) => x.First.CompareTo(y.First));
        }

        /// <summary>Next-fit over this server's blocks; exhausted blocks are searched again at most every <see cref="RescanInterval"/>.</summary>
        public uint? Next(Func<uint, bool> free, DateTimeOffset now)
        {
            if (Scan(free) is { } a)
            {
                return a;
            }

            if (_blocks.Count == 0 || now - _lastRescan < RescanInterval)
            {
                return null;
            }

            _lastRescan = now;
            foreach (var b in _blocks)
            {
                b.Next = b.First;
                b.Full = false;
            }

            return Scan(free);
        }

        private uint? Scan(Func<uint, bool> free)
        {
            for (var n = 0; n < _blocks.Count; n++)
            {
                var i = (_cursor + n) % _blocks.Count;
                var b = _blocks[i];
                if (b.Full)
                {
                    continue;
                }

                for (var a = b.Next; a <= b.Last && a >= b.First; a++)
                {
                    if (free(a))
                    {
                        b.Next = a + 1;
                        b.Full = a == b.Last;
                        _cursor = i;
                        return a;
                    }
                }

                b.Full = true;
            }

            return null;
        }

        /// <summary>Next-fit over the whole DHCP range, whoever claimed the block.</summary>
        public uint? NextAnywhere(Func<uint, bool> free)
        {
            var start = subnet.DhcpStart!.Value;
            var size = (ulong)subnet.DhcpEnd!.Value - start + 1;
            for (ulong n = 0; n < size; n++)
            {
                var a = (uint)(start + ((_anywhere - start + n) % size));
                if (free(a))
                {
                    _anywhere = a + 1;
                    return a;
                }
            }

            return null;
        }
    }

    private sealed class Block(uint first, uint last)
    {
        public uint First { get; } = first;

        public uint Last { get; } = last;

        public uint Next { get; set; } = first;

        public bool Full { get; set; }
    }
}
