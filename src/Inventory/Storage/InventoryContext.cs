using NekkoMetal.Inventory.Audit;

namespace NekkoMetal.Inventory.Storage;

/// <summary>What every repository needs to write: etcd, the cache to read back from, the audit log, time and limits.</summary>
public sealed class InventoryContext(EtcdStore store, InventoryCache cache, AuditLog audit, TimeProvider time, InventoryOptions options)
{
    /// <summary>How long a write waits for the cache to show it before answering anyway.</summary>
    public static readonly TimeSpan ReadBackTimeout = TimeSpan.FromSeconds(5);

    public EtcdStore Store { get; } = store;
    public InventoryCache Cache { get; } = cache;
    public AuditLog Audit { get; } = audit;
    public TimeProvider Time { get; } = time;
    public InventoryOptions Options { get; } = options;
    public EtcdKeys Keys => Store.Keys;

    /// <summary>Waits until the cache is loaded; a boot server that cannot read etcd cannot answer.</summary>
    public async Task EnsureReadyAsync(CancellationToken ct)
    {
        if (Cache.WhenReady.IsCompleted)
        {
            return;
        }

        try
        {
            await Cache.WhenReady.WaitAsync(Options.RequestTimeout, Time, ct);
        }
        catch (TimeoutException e)
        {
            throw new StoreUnavailableException("the inventory is not loaded yet: etcd has not answered", e);
        }
    }

    /// <summary>Read-your-writes: wait (bounded) until the cache has applied <paramref name="revision"/>.</summary>
    public Task ReadBackAsync(long revision, CancellationToken ct) =>
        Cache.WaitForRevisionAsync(revision, ReadBackTimeout, ct);
}
