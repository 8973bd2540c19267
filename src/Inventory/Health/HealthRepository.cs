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
    /// <see cref="NotFoundException"/> for a serial the inventory does not know; nothing is written then.
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
            };
            var txn = new TxnRequest();
            txn.Compare.Add(previous is null ? Txn.Absent(key) : Txn.ModRevisionIs(key, previous.Revision));
            txn.Compare.Add(Txn.Exists(ctx.Keys.Machine(serial)));
            txn.Success.Add(Txn.Put(key, InventoryJson.ToBytes(record)));
            txn.Failure.Add(Txn.Get(ctx.Keys.Machine(serial)));
            var response = await ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                return record with { Revision = response.Header.Revision };
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
