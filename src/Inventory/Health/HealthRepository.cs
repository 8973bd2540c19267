using Etcdserverpb;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Health;

/// <summary>
/// Heartbeats in etcd (<c>health/{serial}</c>), one key per machine, written with compare-and-swap so two boot servers
/// receiving heartbeats of one machine never lose a failing run. Heartbeats are not audited (one per machine every few
/// seconds); the state changes they cause are.
/// </summary>
public sealed class HealthRepository(InventoryContext ctx)
{
    /// <summary>
    /// Records <paramref name="heartbeat"/> as received now. <see cref="ValidationException"/> for a bad body,
    /// <see cref="NotFoundException"/> for a serial the inventory does not know; nothing is written then. An action
    /// waiting for the machine is taken out in the same write and returned as the result's
    /// <see cref="MachineHealth.PendingAction"/>: the caller hands it to the agent (at most once).
    /// </summary>
    public async Task<MachineHealth> RecordAsync(Heartbeat heartbeat, string? receivedBy, CancellationToken ct)
    {
        HeartbeatLimits.Validate(heartbeat);
        var serial = heartbeat.Serial!;
        var checks = heartbeat.Checks!;
        await ctx.EnsureReadyAsync(ct);
        if (ctx.Cache.GetMachine(serial) is null)
        {
            throw new NotFoundException("machine", serial);
        }

        var key = ctx.Keys.Health(serial);
        for (var attempt = 0; ; attempt++)
        {
            var previous = await GetAsync(serial, ct);
            var now = ctx.Time.GetUtcNow();
            var byName = previous?.Checks.ToDictionary(c => c.Name, StringComparer.Ordinal) ?? [];
            var record = new MachineHealth
            {
                Serial = serial,
                LastHeartbeatAt = now,
                ReportedAt = heartbeat.Timestamp!.Value,
                ReceivedBy = receivedBy,
                Checks = [.. checks.Select(c => CheckRecord.From(c, byName.GetValueOrDefault(c.Name), now))],
                PendingAction = null, // handed to the agent with this heartbeat's answer (see Delivered), in the same write
            };
            var txn = new TxnRequest();
            txn.Compare.Add(previous is null ? Txn.Absent(key) : Txn.ModRevisionIs(key, previous.Revision));
            txn.Compare.Add(Txn.Exists(ctx.Keys.Machine(serial)));
            txn.Success.Add(Txn.Put(key, InventoryJson.ToBytes(record)));
            txn.Failure.Add(Txn.Get(ctx.Keys.Machine(serial)));
            var response = await ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                return record with { Revision = response.Header.Revision, PendingAction = previous?.PendingAction };
            }

            if (response.Responses[0].ResponseRange.Kvs.Count == 0)
            {
                throw new NotFoundException("machine", serial); // deleted meanwhile
            }

            if (attempt >= ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"the health of machine '{serial}' kept changing; try again");
            }
        }
    }

    /// <summary>
    /// Asks the machine's agent to <paramref name="action"/> at its next heartbeat (replacing an action still waiting):
    /// CAS on <c>health/{serial}</c> with the audit entry (<c>machine.action</c>) in the same transaction, fenced when a
    /// controller asks. <see cref="ConflictException"/> when no agent has heartbeated for the machine yet (nobody would
    /// carry it out), <see cref="NotFoundException"/> for an unknown machine.
    /// </summary>
    public async Task<PendingAction> RequestActionAsync(string serial, AgentAction action, string? reason, string actor, Leadership.LeaderFence? fence, CancellationToken ct)
    {
        if (reason is { Length: > 1024 })
        {
            throw new ValidationException("reason", "must be at most 1024 characters");
        }

        await ctx.EnsureReadyAsync(ct);
        if (ctx.Cache.GetMachine(serial) is null)
        {
            throw new NotFoundException("machine", serial);
        }

        var key = ctx.Keys.Health(serial);
        for (var attempt = 0; ; attempt++)
        {
            var current = await GetAsync(serial, ct)
                ?? throw new ConflictException($"machine '{serial}' has no agent heartbeating yet: nothing would carry out '{Wire(action)}'");
            var pending = new PendingAction(action, ctx.Time.GetUtcNow(), actor, reason);
            var updated = current with { PendingAction = pending, Revision = 0 };
            var txn = new TxnRequest();
            txn.Compare.Add(Txn.ModRevisionIs(key, current.Revision));
            txn.Success.Add(Txn.Put(key, InventoryJson.ToBytes(updated)));
            txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, Audit.AuditActions.MachineAction, serial, null, pending, reason)));
            if (fence is not null)
            {
                txn.Compare.Add(fence.Compare);
                txn.Failure.Add(Txn.Get(fence.Key));
            }

            var response = await ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                return pending;
            }

            if (fence is not null && response.Responses[0].ResponseRange.Kvs is var leader && (leader.Count == 0 || leader[0].CreateRevision != fence.CreateRevision))
            {
                throw new NotLeaderException($"no action written for machine '{serial}': {fence.Key} is no longer held (leadership lost)");
            }

            if (attempt >= ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"the health of machine '{serial}' kept changing; try again");
            }
        }
    }

    public static string Wire(AgentAction action) => action == AgentAction.Reboot ? "reboot" : "power-off";

    public async Task<MachineHealth?> GetAsync(string serial, CancellationToken ct)
    {
        var read = await ctx.Store.GetAsync(ctx.Keys.Health(serial), ct);
        return read.Kvs.Count == 0 ? null : InventoryJson.FromBytes<MachineHealth>(read.Kvs[0].Value) with { Revision = read.Kvs[0].ModRevision };
    }

    /// <summary>Every machine's health record, by serial (one read at one revision).</summary>
    public async Task<IReadOnlyDictionary<string, MachineHealth>> ListAsync(CancellationToken ct)
    {
        var (kvs, _) = await ctx.Store.RangeAllAsync(ctx.Keys.HealthPrefix, 0, ct);
        var result = new Dictionary<string, MachineHealth>(kvs.Count, StringComparer.Ordinal);
        foreach (var kv in kvs)
        {
            var h = InventoryJson.FromBytes<MachineHealth>(kv.Value) with { Revision = kv.ModRevision };
            result[h.Serial] = h;
        }

        return result;
    }
}
