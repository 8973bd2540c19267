using System.Collections.Concurrent;
using Etcdserverpb;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Ipam;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Machines;

/// <summary>
/// Machines in etcd. Every write is one transaction guarded by compare-and-swap: registration creates the machine,
/// its MAC index keys and its address key only if none exists (so two boot servers can never hand out one address
/// or register one serial twice); updates compare the machine's mod_revision. A lost race is retried with fresh
/// data, or reported as <see cref="ConflictException"/> — never an overwrite.
/// </summary>
public sealed partial class MachineRepository
{
    private readonly InventoryContext _ctx;
    private readonly ILogger<MachineRepository> _logger;
    private readonly HashSet<uint> _inFlight = [];
    private readonly ConcurrentDictionary<uint, long> _seenTaken = new();

    public MachineRepository(InventoryContext ctx, ILogger<MachineRepository> logger)
    {
        _ctx = ctx;
        _logger = logger;
    }

    private EtcdKeys Keys => _ctx.Keys;

    private InventoryCache Cache => _ctx.Cache;

    public async Task<Machine> GetAsync(string serial, CancellationToken ct)
    {
        await _ctx.EnsureReadyAsync(ct);
        return Cache.GetMachine(serial) ?? throw new NotFoundException("machine", serial);
    }

    /// <summary>Machines matching <paramref name="query"/>, sorted by serial, from the cache.</summary>
    public async Task<IReadOnlyList<Machine>> ListAsync(MachineQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        await _ctx.EnsureReadyAsync(ct);
        if (query.Serial is not null)
        {
            return Cache.GetMachine(query.Serial) is { } m && query.Matches(m) ? [m] : [];
        }

        if (query.Mac is not null)
        {
            return Cache.OwnerOfMac(query.Mac) is { } owner && Cache.GetMachine(owner) is { } m && query.Matches(m) ? [m] : [];
        }

        var candidates = Cache.Candidates(query);
        var list = candidates is null
            ? Cache.Machines.Where(query.Matches).ToList()
            : candidates.Select(Cache.GetMachine).Where(m => m is not null && query.Matches(m)).Select(m => m!).ToList();
        list.Sort((a, b) => string.CompareOrdinal(a.Serial, b.Serial));
        return list;
    }

    /// <summary>Checks a registration and returns the machine it would create (no state, address or times yet).</summary>
    public static Machine ValidateSpec(MachineSpec spec, MachineValidator.Errors errors)
    {
        ArgumentNullException.ThrowIfNull(spec);
        MachineValidator.CheckSerial(spec.Serial, "serial", errors);
        var macs = MachineValidator.NormalizeMacs(spec.Macs, "macs", errors, required: true);
        MachineValidator.CheckRole(spec.Role, "role", errors);
        MachineValidator.CheckLabels(spec.Labels, "labels", errors);
        MachineValidator.CheckLocation(spec.Site, spec.Rack, spec.Index, errors);
        var power = MachineValidator.NormalizePower(spec.Power, errors) ?? new PowerInfo();
        return new Machine
        {
            Serial = spec.Serial ?? "",
            Uuid = spec.Uuid,
            Macs = macs,
            Role = spec.Role,
            Labels = spec.Labels is null ? new Dictionary<string, string>() : new Dictionary<string, string>(spec.Labels, StringComparer.Ordinal),
            Site = spec.Site,
            Rack = spec.Rack,
            Index = spec.Index,
            Subnet = spec.Subnet,
            Power = power,
            Hardware = spec.Hardware,
        };
    }

    public async Task<Machine> RegisterAsync(MachineSpec spec, string actor, CancellationToken ct)
    {
        var errors = new MachineValidator.Errors();
        var machine = ValidateSpec(spec, errors);
        errors.ThrowIfAny();
        return await RegisterValidatedAsync(machine, actor, ct);
    }

    /// <summary>
    /// Registers several machines. All are validated first (field paths carry the index, e.g. <c>[3].macs[0]</c>) and
    /// checked against each other and the inventory, so a bad batch writes nothing; then each is registered
    /// in its own transaction. If a race makes some fail after that, the error lists what was created.
    /// </summary>
    public async Task<IReadOnlyList<Machine>> RegisterManyAsync(IReadOnlyList<MachineSpec> specs, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(specs);
        await _ctx.EnsureReadyAsync(ct);
        if (specs.Count == 0)
        {
            throw new ValidationException("$", "the list of machines is empty");
        }

        var errors = new MachineValidator.Errors();
        var machines = new List<Machine>(specs.Count);
        var serials = new HashSet<string>(StringComparer.Ordinal);
        var macs = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < specs.Count; i++)
        {
            var itemErrors = new MachineValidator.Errors($"[{i}]");
            if (specs[i] is null)
            {
                itemErrors.Add("$", "must be an object");
                itemErrors.MergeInto(errors);
                continue;
            }

            var m = ValidateSpec(specs[i], itemErrors);
            if (m.Serial.Length > 0 && !serials.Add(m.Serial))
            {
                itemErrors.Add("serial", $"'{m.Serial}' appears twice in the request");
            }
            else if (Cache.GetMachine(m.Serial) is not null)
            {
                itemErrors.Add("serial", $"machine '{m.Serial}' already exists");
            }

            foreach (var mac in m.Macs)
            {
                if (!macs.Add(mac))
                {
                    itemErrors.Add("macs", $"{mac} appears twice in the request");
                }
                else if (Cache.OwnerOfMac(mac) is { } owner)
                {
                    itemErrors.Add("macs", $"{mac} is registered to machine '{owner}'");
                }
            }

            if (itemErrors.Any)
            {
                itemErrors.MergeInto(errors);
            }

            machines.Add(m);
        }

        errors.ThrowIfAny();
        EnsureEnoughAddresses(machines);
        var created = new Machine?[machines.Count];
        var failures = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, machines.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (i, token) =>
        {
            try
            {
                created[i] = await RegisterValidatedAsync(machines[i], actor, token);
            }
            catch (InventoryException e) when (e is ConflictException or AddressPoolExhaustedException)
            {
                failures.Add($"[{i}] {machines[i].Serial}: {e.Message}");
            }
        });

        if (!failures.IsEmpty)
        {
            var done = created.Where(m => m is not null).Select(m => m!.Serial).ToList();
            throw new ConflictException(
                $"{failures.Count} of {machines.Count} machines were not registered ({Few(failures.Order(StringComparer.Ordinal).ToList())}); " +
                $"registered: {(done.Count == 0 ? "none" : Few(done))}");
        }

        return created!;
    }

    private static string Few(List<string> items) =>
        string.Join("; ", items.Take(10)) + (items.Count > 10 ? $"; and {items.Count - 10} more" : "");

    /// <summary>A batch that cannot fit in the address plan is refused before anything is written.</summary>
    private void EnsureEnoughAddresses(IReadOnlyList<Machine> machines)
    {
        var subnets = Cache.Subnets;
        foreach (var group in machines.GroupBy(m => m.Subnet))
        {
            var candidates = group.Key is null ? subnets : subnets.Where(s => s.Name == group.Key).ToList();
            if (candidates.Count == 0)
            {
                continue; // no plan (registered without address) or unknown subnet (reported per machine)
            }

            long free = 0;
            foreach (var s in candidates)
            {
                free += s.Size - (s.Gateway is { } g && s.InRange(g) ? 1 : 0);
                free -= Cache.Machines.Count(m => m.Ipv4.Any(ip => Ipv4.TryParse(ip, out var a) && s.InRange(a)));
            }

            if (free < group.Count())
            {
                throw new AddressPoolExhaustedException(
                    $"{group.Count()} machines need addresses but only {Math.Max(free, 0)} are free in {(group.Key is null ? "the IPAM subnets" : $"subnet '{group.Key}'")}; nothing was registered; widen a range with 'nekkoctl ipam set'");
            }
        }
    }

    private async Task<Machine> RegisterValidatedAsync(Machine draft, string actor, CancellationToken ct)
    {
        await _ctx.EnsureReadyAsync(ct);
        for (var attempt = 0; ; attempt++)
        {
            if (Cache.GetMachine(draft.Serial) is not null)
            {
                throw new ConflictException($"machine '{draft.Serial}' already exists");
            }

            foreach (var mac in draft.Macs)
            {
                if (Cache.OwnerOfMac(mac) is { } owner)
                {
                    throw new ConflictException($"MAC {mac} is registered to machine '{owner}'");
                }
            }

            var ipam = Cache.Ipam;
            var (subnet, address) = ReserveAddress(draft.Subnet, Cache.Subnets);
            try
            {
                var now = _ctx.Time.GetUtcNow();
                var machine = draft with
                {
                    State = MachineState.Uninitialized,
                    Ipv4 = address is { } a ? [Ipv4.Format(a)] : [],
                    Subnet = subnet,
                    CreatedAt = now,
                    UpdatedAt = now,
                    StateChangedAt = now,
                    Revision = 0,
                };
                var txn = new TxnRequest();
                txn.Compare.Add(Txn.Absent(Keys.Machine(machine.Serial)));
                txn.Compare.Add(Txn.ModRevisionIs(Keys.IpamConfig, ipam.Revision));
                txn.Success.Add(Txn.Put(Keys.Machine(machine.Serial), InventoryJson.ToBytes(machine)));
                txn.Failure.Add(Txn.Get(Keys.Machine(machine.Serial)));
                foreach (var mac in machine.Macs)
                {
                    txn.Compare.Add(Txn.Absent(Keys.Mac(mac)));
                    txn.Success.Add(Txn.Put(Keys.Mac(mac), machine.Serial));
                    txn.Failure.Add(Txn.Get(Keys.Mac(mac)));
                }

                if (address is { } addr)
                {
                    txn.Compare.Add(Txn.Absent(Keys.Address(Ipv4.Format(addr))));
                    txn.Success.Add(Txn.Put(Keys.Address(Ipv4.Format(addr)), machine.Serial));
                    txn.Failure.Add(Txn.Get(Keys.Address(Ipv4.Format(addr))));
                }

                txn.Success.AddRange(_ctx.Audit.Ops(_ctx.Audit.Create(actor, AuditActions.MachineCreate, machine.Serial, null, machine)));
                var response = await _ctx.Store.TxnAsync(txn, ct);
                if (response.Succeeded)
                {
                    await _ctx.ReadBackAsync(response.Header.Revision, ct);
                    LogRegistered(machine.Serial, string.Join(",", machine.Ipv4), actor);
                    return machine with { Revision = response.Header.Revision };
                }

                // Sort out why: serial or MAC taken is the caller's conflict; a taken address or a changed IPAM config is ours to retry.
                if (response.Responses[0].ResponseRange.Kvs.Count > 0)
                {
                    throw new ConflictException($"machine '{machine.Serial}' already exists");
                }

                for (var i = 0; i < machine.Macs.Count; i++)
                {
                    var kvs = response.Responses[1 + i].ResponseRange.Kvs;
                    if (kvs.Count > 0)
                    {
                        throw new ConflictException($"MAC {machine.Macs[i]} is registered to machine '{kvs[0].Value.ToStringUtf8()}'");
                    }
                }

                if (address is { } taken && response.Responses[^1].ResponseRange.Kvs is { Count: > 0 } addrKvs)
                {
                    _seenTaken[taken] = addrKvs[0].ModRevision;
                }
                else
                {
                    await _ctx.ReadBackAsync(response.Header.Revision, ct); // the IPAM config changed: catch up first
                }

                if (attempt >= _ctx.Options.MaxCasRetries)
                {
                    throw new ConflictException($"could not register machine '{machine.Serial}': lost {attempt + 1} races for an address; try again");
                }

                LogCasRetry(machine.Serial, attempt + 1);
            }
            finally
            {
                if (address is { } reserved)
                {
                    lock (_inFlight)
                    {
                        _inFlight.Remove(reserved);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Picks the lowest address that is neither taken in the cache, nor being registered by this process, nor seen
    /// taken in a lost race the cache has not caught up with yet; and marks it in flight.
    /// </summary>
    private (string? Subnet, uint? Address) ReserveAddress(string? subnetName, IReadOnlyList<ResolvedSubnet> subnets)
    {
        IEnumerable<ResolvedSubnet> candidates = subnets;
        if (subnetName is not null)
        {
            candidates = subnets.Where(s => s.Name == subnetName).ToList();
            if (!candidates.Any())
            {
                throw new ValidationException("subnet", $"no IPAM subnet is named '{subnetName}'");
            }
        }
        else if (subnets.Count == 0)
        {
            return (null, null); // no address plan configured: register without an address
        }

        var cacheRevision = Cache.Revision;
        foreach (var (address, seenAt) in _seenTaken)
        {
            if (seenAt <= cacheRevision)
            {
                _seenTaken.TryRemove(address, out _);
            }
        }

        lock (_inFlight)
        {
            foreach (var subnet in candidates)
            {
                if (AddressAllocator.FindFree(subnet, a => Cache.IsAddressTaken(a) || _inFlight.Contains(a) || _seenTaken.ContainsKey(a)) is { } free)
                {
                    _inFlight.Add(free);
                    return (subnet.Name, free);
                }
            }
        }

        throw new AddressPoolExhaustedException(subnetName is null
            ? "no free address is left in any IPAM subnet; widen a range with 'nekkoctl ipam set'"
            : $"no free address is left in IPAM subnet '{subnetName}'");
    }

    /// <summary>
    /// Registers a machine that network-booted the discovery image, or refreshes the facts of one we know
    /// (found by its identity or by any of its MACs). New machines are <c>uninitialized</c> with an IPAM address;
    /// their Wake-on-LAN MAC is the one they booted from.
    /// </summary>
    public async Task<DiscoveryResult> DiscoverAsync(DiscoveryReport report, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        var errors = new MachineValidator.Errors();
        var macs = MachineValidator.NormalizeMacs(report.Macs, "macs", errors, required: true);
        errors.ThrowIfAny();
        var serial = MachineIdentity.Derive(report.Serial, report.Uuid, macs)
            ?? throw new ValidationException("serial", "the machine reported no usable serial, UUID or MAC");
        await _ctx.EnsureReadyAsync(ct);

        var known = Cache.GetMachine(serial)
            ?? macs.Select(m => Cache.OwnerOfMac(m)).Where(o => o is not null).Select(o => Cache.GetMachine(o!)).FirstOrDefault(m => m is not null);
        if (known is not null)
        {
            var refreshed = await MutateAsync(known.Serial, null, actor, AuditActions.MachineUpdate, "rediscovered", current => current with
            {
                Uuid = report.Uuid ?? current.Uuid,
                Macs = current.Macs.Union(macs.Where(m => Cache.OwnerOfMac(m) is null || Cache.OwnerOfMac(m) == current.Serial)).Take(MachineValidator.MaxMacs).ToList(),
                Hardware = report.Hardware ?? current.Hardware,
            }, ct);
            return new DiscoveryResult(refreshed, false, "reboot");
        }

        var machine = await RegisterAsync(new MachineSpec
        {
            Serial = serial,
            Uuid = report.Uuid,
            Macs = macs,
            Hardware = report.Hardware,
            Power = new PowerInfo { WolMac = macs[0] },
        }, actor, ct);
        return new DiscoveryResult(machine, true, "reboot");
    }

    public Task<Machine> UpdateAsync(string serial, MachinePatch patch, string actor, CancellationToken ct) =>
        UpdateAsync(serial, patch, actor, reason: null, fence: null, ct);

    /// <summary>
    /// <see cref="UpdateAsync(string, MachinePatch, string, CancellationToken)"/> for a leader-elected controller: the
    /// write also requires <paramref name="fence"/>'s leadership (else <see cref="NotLeaderException"/>), and the audit
    /// entry carries <paramref name="reason"/>.
    /// </summary>
    public async Task<Machine> UpdateAsync(string serial, MachinePatch patch, string actor, string? reason, Leadership.LeaderFence? fence, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var errors = new MachineValidator.Errors();
        var macs = patch.Macs is null ? null : MachineValidator.NormalizeMacs(patch.Macs, "macs", errors, required: true);
        MachineValidator.CheckRole(patch.Role, "role", errors);
        MachineValidator.CheckLabels(patch.Labels, "labels", errors);
        MachineValidator.CheckLocation(patch.Site, patch.Rack, patch.Index, errors);
        var power = MachineValidator.NormalizePower(patch.Power, errors);
        errors.ThrowIfAny();

        return await MutateAsync(serial, patch.Revision, actor, AuditActions.MachineUpdate, reason, current =>
        {
            var labels = new Dictionary<string, string>(current.Labels, StringComparer.Ordinal);
            foreach (var (k, v) in patch.Labels ?? new Dictionary<string, string?>())
            {
                if (v is null)
                {
                    labels.Remove(k);
                }
                else
                {
                    labels[k] = v;
                }
            }

            if (labels.Count > MachineValidator.MaxLabels)
            {
                throw new ValidationException("labels", $"at most {MachineValidator.MaxLabels} labels");
            }

            return current with
            {
                Uuid = patch.Uuid ?? current.Uuid,
                Macs = macs ?? current.Macs,
                Role = patch.Role ?? current.Role,
                Labels = labels,
                Site = patch.Site ?? current.Site,
                Rack = patch.Rack ?? current.Rack,
                Index = patch.Index ?? current.Index,
                Power = power ?? current.Power,
                Hardware = patch.Hardware ?? current.Hardware,
            };
        }, ct, fence);
    }

    /// <summary>
    /// Moves the machine to <paramref name="state"/> if the transition table allows it. With a fence
    /// (a leader-elected controller's) the write also requires that leadership to be current, else <see cref="NotLeaderException"/>.
    /// </summary>
    public Task<Machine> SetStateAsync(string serial, MachineState state, string? reason, string actor, CancellationToken ct) =>
        SetStateAsync(serial, state, reason, actor, fence: null, ct);

    /// <inheritdoc cref="SetStateAsync(string, MachineState, string?, string, CancellationToken)"/>
    public async Task<Machine> SetStateAsync(string serial, MachineState state, string? reason, string actor,
        Leadership.LeaderFence? fence, CancellationToken ct)
    {
        if (reason is { Length: > 1024 })
        {
            throw new ValidationException("reason", "must be at most 1024 characters");
        }

        var result = await MutateAsync(serial, null, actor, AuditActions.MachineState, reason, current =>
        {
            if (current.State == state)
            {
                return current;
            }

            if (!MachineStateTransitions.IsAllowed(current.State, state))
            {
                throw new ForbiddenTransitionException(serial, current.State, state);
            }

            return current with { State = state, StateChangedAt = _ctx.Time.GetUtcNow() };
        }, ct, fence);
        return result;
    }

    public async Task DeleteAsync(string serial, string actor, CancellationToken ct)
    {
        await _ctx.EnsureReadyAsync(ct);
        for (var attempt = 0; ; attempt++)
        {
            var current = await ReadAsync(serial, ct) ?? throw new NotFoundException("machine", serial);
            if (!MachineStateTransitions.CanDelete(current.State))
            {
                throw new ConflictException($"machine '{serial}' is {current.State.ToWire()}: only retired machines can be deleted (retire it first: retiring, then retired)");
            }

            var txn = new TxnRequest();
            txn.Compare.Add(Txn.ModRevisionIs(Keys.Machine(serial), current.Revision));
            txn.Success.Add(Txn.Delete(Keys.Machine(serial)));
            foreach (var mac in current.Macs)
            {
                txn.Success.Add(Txn.Delete(Keys.Mac(mac)));
            }

            foreach (var ip in current.Ipv4)
            {
                txn.Success.Add(Txn.Delete(Keys.Address(ip)));
            }

            txn.Success.Add(Txn.Delete(Keys.Health(serial)));
            txn.Success.AddRange(_ctx.Audit.Ops(_ctx.Audit.Create(actor, AuditActions.MachineDelete, serial, current with { Revision = 0 }, null)));
            var response = await _ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                await _ctx.ReadBackAsync(response.Header.Revision, ct);
                return;
            }

            if (attempt >= _ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"machine '{serial}' kept changing; try again");
            }
        }
    }

    /// <summary>
    /// Read-modify-write with compare-and-swap on the machine's mod_revision. The first attempt starts from the cache;
    /// after a lost race it reads etcd. With an expected revision the caller gets a conflict instead of a retry.
    /// </summary>
    private async Task<Machine> MutateAsync(string serial, long? expectedRevision, string actor, string action, string? reason,
        Func<Machine, Machine> change, CancellationToken ct, Leadership.LeaderFence? fence = null)
    {
        await _ctx.EnsureReadyAsync(ct);
        var current = Cache.GetMachine(serial);
        for (var attempt = 0; ; attempt++)
        {
            current ??= await ReadAsync(serial, ct) ?? throw new NotFoundException("machine", serial);
            if (expectedRevision is { } expected && expected != current.Revision)
            {
                // the cache may lag: confirm against etcd before calling it a conflict
                current = await ReadAsync(serial, ct) ?? throw new NotFoundException("machine", serial);
                if (expected != current.Revision)
                {
                    throw new ConflictException($"machine '{serial}' changed since revision {expected} (now {current.Revision}); read it again and retry");
                }
            }

            var updated = change(current);
            if (updated == current || SameContent(updated, current))
            {
                return current; // nothing to change: no write, no revision, no audit entry
            }

            updated = updated with { UpdatedAt = _ctx.Time.GetUtcNow(), Revision = 0 };
            var txn = new TxnRequest();
            txn.Compare.Add(Txn.ModRevisionIs(Keys.Machine(serial), current.Revision));
            txn.Success.Add(Txn.Put(Keys.Machine(serial), InventoryJson.ToBytes(updated)));
            txn.Failure.Add(Txn.Get(Keys.Machine(serial)));
            var added = updated.Macs.Except(current.Macs).ToList();
            foreach (var mac in added)
            {
                txn.Compare.Add(Txn.Absent(Keys.Mac(mac)));
                txn.Success.Add(Txn.Put(Keys.Mac(mac), serial));
                txn.Failure.Add(Txn.Get(Keys.Mac(mac)));
            }

            foreach (var mac in current.Macs.Except(updated.Macs))
            {
                txn.Success.Add(Txn.Delete(Keys.Mac(mac)));
            }

            txn.Success.AddRange(_ctx.Audit.Ops(_ctx.Audit.Create(actor, action, serial, current with { Revision = 0 }, updated, reason)));
            if (fence is not null)
            {
                txn.Compare.Add(fence.Compare);
                txn.Failure.Add(Txn.Get(fence.Key)); // last: read after the MAC reads below
            }

            var response = await _ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                await _ctx.ReadBackAsync(response.Header.Revision, ct);
                if (action == AuditActions.MachineState)
                {
                    LogStateChanged(serial, current.State.ToWire(), updated.State.ToWire(), actor);
                }

                return updated with { Revision = response.Header.Revision };
            }

            if (fence is not null && response.Responses[^1].ResponseRange.Kvs is var leader &&
                (leader.Count == 0 || leader[0].CreateRevision != fence.CreateRevision))
            {
                throw new NotLeaderException($"not written to machine '{serial}': {fence.Key} is no longer held with create revision {fence.CreateRevision} (leadership lost)");
            }

            for (var i = 0; i < added.Count; i++)
            {
                var kvs = response.Responses[1 + i].ResponseRange.Kvs;
                if (kvs.Count > 0 && kvs[0].Value.ToStringUtf8() != serial)
                {
                    throw new ConflictException($"MAC {added[i]} is registered to machine '{kvs[0].Value.ToStringUtf8()}'");
                }
            }

            var machineKvs = response.Responses[0].ResponseRange.Kvs;
            if (machineKvs.Count == 0)
            {
                throw new NotFoundException("machine", serial);
            }

            if (expectedRevision is not null)
            {
                throw new ConflictException($"machine '{serial}' changed since revision {expectedRevision} (now {machineKvs[0].ModRevision}); read it again and retry");
            }

            if (attempt >= _ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"machine '{serial}' kept changing; try again");
            }

            LogCasRetry(serial, attempt + 1);
            current = InventoryJson.FromBytes<Machine>(machineKvs[0].Value) with { Revision = machineKvs[0].ModRevision };
        }
    }

    private static bool SameContent(Machine a, Machine b) =>
        InventoryJson.ToBytes(a with { Revision = 0 }).Span.SequenceEqual(InventoryJson.ToBytes(b with { Revision = 0 }).Span);

    private async Task<Machine?> ReadAsync(string serial, CancellationToken ct)
    {
        var response = await _ctx.Store.GetAsync(Keys.Machine(serial), ct);
        return response.Kvs.Count == 0
            ? null
            : InventoryJson.FromBytes<Machine>(response.Kvs[0].Value) with { Revision = response.Kvs[0].ModRevision };
    }

    [LoggerMessage(EventIds.MachineRegistered, LogLevel.Information, "Registered machine {Serial} with address {Address} by {Actor}")]
    private partial void LogRegistered(string serial, string address, string actor);

    [LoggerMessage(EventIds.CasRetry, LogLevel.Debug, "Lost a compare-and-swap race on machine {Serial}; attempt {Attempt}")]
    private partial void LogCasRetry(string serial, int attempt);

    [LoggerMessage(EventIds.MachineStateChanged, LogLevel.Information, "Machine {Serial} went from {From} to {To} by {Actor}")]
    private partial void LogStateChanged(string serial, string from, string to, string actor);
}
