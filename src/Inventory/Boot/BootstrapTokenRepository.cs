using Etcdserverpb;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Inventory.Tokens;

namespace NekkoMetal.Inventory.Boot;

/// <summary>What a bootstrap token was issued for.</summary>
public sealed record BootstrapToken
{
    public required string Purpose { get; init; }
    public string? Mac { get; init; }

    /// <summary>The machine the token was issued to, when it was issued to a known machine (agent tokens).</summary>
    public string? Serial { get; init; }
    public DateTimeOffset IssuedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>
/// Short-lived, single-use tokens handed to machines that cannot hold a secret yet (the discovery image).
/// Stored as <c>bootstrap/{sha256}</c> on an etcd lease, so etcd itself forgets them when they expire;
/// consuming one deletes it in the same transaction that checks it exists.
/// </summary>
public sealed class BootstrapTokenRepository(InventoryContext ctx)
{
    public const string Discovery = "discovery";

    private string Key(string secret) => ctx.Keys.Prefix + "bootstrap/" + ApiToken.Hash(secret);

    public Task<string> IssueAsync(string purpose, TimeSpan lifetime, string? mac, CancellationToken ct) =>
        IssueForMachineAsync(purpose, lifetime, mac, serial: null, ct);

    /// <summary>A token bound to the known machine <paramref name="serial"/> (see <see cref="FindAsync"/>).</summary>
    public async Task<string> IssueForMachineAsync(string purpose, TimeSpan lifetime, string? mac, string? serial, CancellationToken ct)
    {
        var secret = ApiToken.NewSecret().Replace("nekko_", "nekkoboot_", StringComparison.Ordinal);
        var now = ctx.Time.GetUtcNow();
        var leaseId = await ctx.Store.GrantLeaseAsync((long)Math.Ceiling(lifetime.TotalSeconds), ct);
        var token = new BootstrapToken { Purpose = purpose, Mac = mac, Serial = serial, IssuedAt = now, ExpiresAt = now + lifetime };
        var txn = new TxnRequest();
        var put = Txn.Put(Key(secret), InventoryJson.ToBytes(token));
        put.RequestPut.Lease = leaseId;
        txn.Success.Add(put);
        await ctx.Store.TxnAsync(txn, ct);
        return secret;
    }

    /// <summary>
    /// Checks the token without using it up: null when it is unknown, used or expired, or for another purpose. For a
    /// check that must not take the token away from its real user (the install report checks the agent token the node
    /// agent still needs).
    /// </summary>
    public async Task<BootstrapToken?> FindAsync(string? secret, string purpose, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length > 256)
        {
            return null;
        }

        var read = await ctx.Store.GetAsync(Key(secret), ct);
        if (read.Kvs.Count == 0)
        {
            return null;
        }

        var token = InventoryJson.FromBytes<BootstrapToken>(read.Kvs[0].Value);
        return token.Purpose != purpose || token.ExpiresAt <= ctx.Time.GetUtcNow() ? null : token;
    }

    /// <summary>Checks and deletes the token; null when it is unknown, used or expired, or for another purpose.</summary>
    public async Task<BootstrapToken?> ConsumeAsync(string? secret, string purpose, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length > 256)
        {
            return null;
        }

        var key = Key(secret);
        var read = await ctx.Store.GetAsync(key, ct);
        if (read.Kvs.Count == 0)
        {
            return null;
        }

        var token = InventoryJson.FromBytes<BootstrapToken>(read.Kvs[0].Value);
        if (token.Purpose != purpose || token.ExpiresAt <= ctx.Time.GetUtcNow())
        {
            return null;
        }

        var txn = new TxnRequest();
        txn.Compare.Add(Txn.ModRevisionIs(key, read.Kvs[0].ModRevision));
        txn.Success.Add(Txn.Delete(key));
        var result = await ctx.Store.TxnAsync(txn, ct);
        return result.Succeeded ? token : null; // lost the race: someone else used it
    }
}
