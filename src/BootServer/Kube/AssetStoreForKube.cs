using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Assets;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Assets;
using NekkoMetal.Inventory.Servers;
using NekkoMetal.KubeInstaller.Execution;
using NekkoMetal.KubeInstaller.Execution.Assets;
using NekkoMetal.KubeInstaller.Execution.Backups;

namespace NekkoMetal.BootServer.Kube;

/// <summary>
/// The boot servers' content-addressed asset store as the installer's binary source: the asset's catalog entry
/// names its SHA-256, the content is read from this server's disk. Content not replicated here yet is a transient
/// failure (the replicator fetches every asset; the batch is retried). The executor checks the pinned SHA-256 on
/// the node, so a wrong asset is never installed.
/// </summary>
public sealed class AssetStoreSource(AssetCatalog catalog, AssetFiles files) : IAssetSource
{
    public Task<Stream> OpenAsync(string assetName, CancellationToken ct)
    {
        var asset = catalog.Get(assetName)
            ?? throw new OperationFailedException($"asset '{assetName}' is not in the asset store: upload it (nekkoctl assets upload {assetName} FILE)");
        if (!files.Has(asset.Sha256))
        {
            throw new OperationFailedException($"asset '{assetName}' (sha256 {asset.Sha256}) is not on this boot server yet (replicating)", transient: true);
        }

        return Task.FromResult<Stream>(File.OpenRead(files.PathOf(asset.Sha256)));
    }
}

/// <summary>
/// etcd snapshots kept as assets (<c>etcd-backup-….db</c>): verified by hash and size as they are written, then
/// recorded in the catalog by this server, so every boot server replicates them and
/// <c>nekkoctl assets download</c> fetches one.
/// </summary>
public sealed class AssetBackupStore(
    AssetFiles files, AssetRepository repository, ServerRegistry registry, AssetReplicator replicator, IOptions<BootServerOptions> options) : IEtcdBackupStore
{
    public const string Actor = "kube-installer";

    public async Task StoreAsync(string name, Stream content, string sha256, long size, CancellationToken ct)
    {
        try
        {
            using var stored = await files.WriteAsync(content, options.Value.MaxAssetBytes, sha256, size, "sha256", ct);
            var lease = registry.LeaseId;
            await repository.PutAsync(
                new AssetInfo { Name = name, Sha256 = stored.Sha256, Size = stored.Size, ContentType = "application/octet-stream" },
                Actor, lease != 0 ? registry.ServerId : null, lease, ct);
            replicator.Nudge();
        }
        catch (ValidationException e)
        {
            throw new OperationFailedException($"etcd backup {name}: {e.Message}", inner: e);
        }
        catch (BadHttpRequestException e)
        {
            throw new OperationFailedException($"etcd backup {name}: {e.Message}", inner: e);
        }
    }
}
