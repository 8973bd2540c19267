using Etcdserverpb;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Assets;

/// <summary>
/// Asset metadata in etcd. Every write is one transaction guarded by compare-and-swap on the asset key (absent, or
/// the mod_revision that was read), carrying its audit entry; a lost race is retried on fresh data or reported as
/// <see cref="ConflictException"/>. Content is the caller's: it is on disk and verified before metadata is written.
/// Reads come from the <see cref="AssetCatalog"/>.
/// </summary>
public sealed partial class AssetRepository(InventoryContext ctx, AssetCatalog catalog, ILogger<AssetRepository> logger)
{
    public const string ActionCreate = "asset.create";
    public const string ActionUpdate = "asset.update";
    public const string ActionDelete = "asset.delete";

    private readonly ILogger<AssetRepository> _logger = logger;

    private EtcdKeys Keys => ctx.Keys;

    public async Task<IReadOnlyList<AssetInfo>> ListAsync(CancellationToken ct)
    {
        await catalog.EnsureReadyAsync(ctx.Options.RequestTimeout, ct);
        return catalog.Assets.OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
    }

    public async Task<AssetInfo> GetAsync(string name, CancellationToken ct)
    {
        AssetName.Check(name);
        await catalog.EnsureReadyAsync(ctx.Options.RequestTimeout, ct);
        return catalog.Get(name) ?? throw new NotFoundException("asset", name);
    }

    /// <summary>
    /// Creates or replaces the metadata of <paramref name="asset"/>, whose content is complete and verified on this
    /// server's disk; in the same transaction records that <paramref name="holder"/> (this server) holds it, attached
    /// to the server's lease (<paramref name="holderLease"/>, 0 for none). Returns the stored asset and whether it is new.
    /// </summary>
    public async Task<(AssetInfo Asset, bool Created)> PutAsync(AssetInfo asset, string actor, string? holder, long holderLease, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(asset);
        AssetName.Check(asset.Name);
        if (!AssetName.IsSha256(asset.Sha256))
        {
            throw new ValidationException("sha256", "must be 64 lowercase hex digits");
        }

        var key = Keys.Asset(asset.Name);
        for (var attempt = 0; ; attempt++)
        {
            var current = await ReadAsync(asset.Name, ct);
            var stored = asset with { CreatedAt = ctx.Time.GetUtcNow(), UploadedBy = actor, Revision = 0 };
            var txn = new TxnRequest();
            txn.Compare.Add(current is null ? Txn.Absent(key) : Txn.ModRevisionIs(key, current.Revision));
            txn.Success.Add(Txn.Put(key, InventoryJson.ToBytes(stored)));
            if (holder is not null)
            {
                txn.Success.Add(new RequestOp
                {
                    RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(Keys.AssetHolder(holder, stored.Sha256)), Lease = holderLease },
                });
            }

            var action = current is null ? ActionCreate : ActionUpdate;
            txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, action, null, current is null ? null : current with { Revision = 0 }, stored)));
            var response = await ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                await catalog.WaitForAssetRevisionAsync(response.Header.Revision, InventoryContext.ReadBackTimeout, ct);
                LogStored(stored.Name, stored.Sha256, stored.Size, actor);
                return (stored with { Revision = response.Header.Revision }, current is null);
            }

            if (attempt >= ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"asset '{asset.Name}' kept changing; try again");
            }
        }
    }

    /// <summary>Deletes the metadata of <paramref name="name"/>; every boot server then removes the content it no longer needs.</summary>
    public async Task<AssetInfo> DeleteAsync(string name, string actor, CancellationToken ct)
    {
        AssetName.Check(name);
        var key = Keys.Asset(name);
        for (var attempt = 0; ; attempt++)
        {
            var current = await ReadAsync(name, ct) ?? throw new NotFoundException("asset", name);
            var txn = new TxnRequest();
            txn.Compare.Add(Txn.ModRevisionIs(key, current.Revision));
            txn.Success.Add(Txn.Delete(key));
            txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, ActionDelete, null, current with { Revision = 0 }, null)));
            var response = await ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                await catalog.WaitForAssetRevisionAsync(response.Header.Revision, InventoryContext.ReadBackTimeout, ct);
                LogDeleted(name, current.Sha256, actor);
                return current;
            }

            if (attempt >= ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"asset '{name}' kept changing; try again");
            }
        }
    }

    /// <summary>Records that <paramref name="serverId"/> holds <paramref name="sha256"/>, for as long as <paramref name="lease"/> lives.</summary>
    public async Task AnnounceHeldAsync(string serverId, string sha256, long lease, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp
        {
            RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(Keys.AssetHolder(serverId, sha256)), Lease = lease },
        });
        await ctx.Store.TxnAsync(txn, ct);
    }

    /// <summary>Withdraws the record that <paramref name="serverId"/> holds <paramref name="sha256"/>.</summary>
    public async Task WithdrawHeldAsync(string serverId, string sha256, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Success.Add(Txn.Delete(Keys.AssetHolder(serverId, sha256)));
        await ctx.Store.TxnAsync(txn, ct);
    }

    private async Task<AssetInfo?> ReadAsync(string name, CancellationToken ct)
    {
        var response = await ctx.Store.GetAsync(Keys.Asset(name), ct);
        return response.Kvs.Count == 0
            ? null
            : InventoryJson.FromBytes<AssetInfo>(response.Kvs[0].Value) with { Revision = response.Kvs[0].ModRevision };
    }

    [LoggerMessage(EventIds.AssetStored, LogLevel.Information, "Asset {Name} stored: sha256 {Sha256}, {Size} bytes, by {Actor}")]
    private partial void LogStored(string name, string sha256, long size, string actor);

    [LoggerMessage(EventIds.AssetDeleted, LogLevel.Information, "Asset {Name} (sha256 {Sha256}) deleted by {Actor}")]
    private partial void LogDeleted(string name, string sha256, string actor);
}
