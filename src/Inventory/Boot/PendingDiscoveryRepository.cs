using Etcdserverpb;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Boot;

/// <summary>A discovery report waiting for an admin's approval (when auto-accept is off).</summary>
public sealed record PendingDiscovery
{
    public required string Serial { get; init; }
    public required DiscoveryReport Report { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>
/// Machines that network-booted and reported themselves while auto-accept is off: kept under
/// <c>discovery/pending/{serial}</c> (the latest report wins) until an admin accepts (registers) or rejects them.
/// </summary>
public sealed class PendingDiscoveryRepository(InventoryContext ctx, MachineRepository machines)
{
    private string Prefix => ctx.Keys.Prefix + "discovery/pending/";

    public async Task<PendingDiscovery> HoldAsync(DiscoveryReport report, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        var errors = new MachineValidator.Errors();
        var macs = MachineValidator.NormalizeMacs(report.Macs, "macs", errors, required: true);
        errors.ThrowIfAny();
        var serial = MachineIdentity.Derive(report.Serial, report.Uuid, macs)
            ?? throw new ValidationException("serial", "the machine reported no usable serial, UUID or MAC");
        var pending = new PendingDiscovery { Serial = serial, Report = report, ReceivedAt = ctx.Time.GetUtcNow() };
        var txn = new TxnRequest();
        txn.Success.Add(Txn.Put(Prefix + serial, InventoryJson.ToBytes(pending)));
        await ctx.Store.TxnAsync(txn, ct);
        return pending;
    }

    public async Task<IReadOnlyList<PendingDiscovery>> ListAsync(CancellationToken ct)
    {
        var (kvs, _) = await ctx.Store.RangeAllAsync(Prefix, 0, ct);
        return kvs.Select(kv => InventoryJson.FromBytes<PendingDiscovery>(kv.Value)).ToList();
    }

    /// <summary>Registers the machine from its pending report and removes the report.</summary>
    public async Task<DiscoveryResult> AcceptAsync(string serial, string actor, CancellationToken ct)
    {
        var (pending, revision) = await ReadAsync(serial, ct);
        var result = await machines.DiscoverAsync(pending.Report, actor, ct);
        await DeleteAsync(serial, revision, ct);
        return result;
    }

    public async Task RejectAsync(string serial, CancellationToken ct)
    {
        var (_, revision) = await ReadAsync(serial, ct);
        await DeleteAsync(serial, revision, ct);
    }

    private async Task<(PendingDiscovery Pending, long Revision)> ReadAsync(string serial, CancellationToken ct)
    {
        if (!MachineValidator.IsValidSerial(serial))
        {
            throw new NotFoundException("pending machine", serial);
        }

        var response = await ctx.Store.GetAsync(Prefix + serial, ct);
        return response.Kvs.Count == 0
            ? throw new NotFoundException("pending machine", serial)
            : (InventoryJson.FromBytes<PendingDiscovery>(response.Kvs[0].Value), response.Kvs[0].ModRevision);
    }

    private async Task DeleteAsync(string serial, long revision, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(Txn.ModRevisionIs(Prefix + serial, revision));
        txn.Success.Add(Txn.Delete(Prefix + serial));
        await ctx.Store.TxnAsync(txn, ct); // a newer report that came meanwhile stays pending
    }
}
