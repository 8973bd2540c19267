using Etcdserverpb;
using NekkoMetal.Inventory.Leadership;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Replacement;

/// <summary>
/// <c>replacements/{failed serial}</c> in etcd. Reads for anyone; writes only by the leading controller: each write
/// compares the record's revision (or its absence) and the leadership fence, and carries its audit entry in the
/// same transaction.
/// </summary>
public sealed class ReplacementRepository(InventoryContext ctx)
{
    public async Task<IReadOnlyList<MachineReplacement>> ListAsync(CancellationToken ct)
    {
        var (kvs, _) = await ctx.Store.RangeAllAsync(ctx.Keys.ReplacementsPrefix, 0, ct);
        return [.. kvs.Select(kv => InventoryJson.FromBytes<MachineReplacement>(kv.Value) with { Revision = kv.ModRevision })];
    }

    public async Task<MachineReplacement?> GetAsync(string failedSerial, CancellationToken ct)
    {
        var read = await ctx.Store.GetAsync(ctx.Keys.Replacement(failedSerial), ct);
        return read.Kvs.Count == 0 ? null : InventoryJson.FromBytes<MachineReplacement>(read.Kvs[0].Value) with { Revision = read.Kvs[0].ModRevision };
    }

    /// <summary>
    /// Writes <paramref name="next"/> in place of <paramref name="current"/> (null: the key must be absent), audited
    /// as <paramref name="action"/>. <see cref="NotLeaderException"/> when the fence no longer holds,
    /// <see cref="ConflictException"/> when the record changed meanwhile; nothing is written then.
    /// </summary>
    public async Task<MachineReplacement> WriteAsync(MachineReplacement? current, MachineReplacement next, string actor, string action, string? reason, LeaderFence fence, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(fence);
        var key = ctx.Keys.Replacement(next.Failed);
        var stored = next with { Revision = 0 };
        var txn = new TxnRequest();
        txn.Compare.Add(current is null ? Txn.Absent(key) : Txn.ModRevisionIs(key, current.Revision));
        txn.Compare.Add(fence.Compare);
        txn.Success.Add(Txn.Put(key, InventoryJson.ToBytes(stored)));
        txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, action, next.Failed, current is null ? null : current with { Revision = 0 }, stored, reason)));
        txn.Failure.Add(Txn.Get(fence.Key));
        var response = await ctx.Store.TxnAsync(txn, ct);
        if (response.Succeeded)
        {
            return stored with { Revision = response.Header.Revision };
        }

        ThrowIfDeposed(response, fence, next.Failed);
        throw new ConflictException($"the replacement of machine '{next.Failed}' changed meanwhile");
    }

    /// <summary>Deletes a completed record (fenced, audited).</summary>
    public async Task DeleteAsync(MachineReplacement current, string actor, LeaderFence fence, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(fence);
        var key = ctx.Keys.Replacement(current.Failed);
        var txn = new TxnRequest();
        txn.Compare.Add(Txn.ModRevisionIs(key, current.Revision));
        txn.Compare.Add(fence.Compare);
        txn.Success.Add(Txn.Delete(key));
        txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, Audit.AuditActions.ReplacementForget, current.Failed, current with { Revision = 0 }, null,
            "completed replacement past its retention (this audit log keeps its history)")));
        txn.Failure.Add(Txn.Get(fence.Key));
        var response = await ctx.Store.TxnAsync(txn, ct);
        if (!response.Succeeded)
        {
            ThrowIfDeposed(response, fence, current.Failed);
        }
    }

    private static void ThrowIfDeposed(TxnResponse response, LeaderFence fence, string serial)
    {
        var leader = response.Responses[0].ResponseRange.Kvs;
        if (leader.Count == 0 || leader[0].CreateRevision != fence.CreateRevision)
        {
            throw new NotLeaderException($"replacement of machine '{serial}' not written: {fence.Key} is no longer held with create revision {fence.CreateRevision} (leadership lost)");
        }
    }
}
