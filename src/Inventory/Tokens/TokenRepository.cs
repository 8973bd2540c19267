using System.Text.RegularExpressions;
using Etcdserverpb;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Tokens;

/// <summary>API tokens: etcd keeps the SHA-256 of each secret; the secret is shown once, when created.</summary>
public sealed partial class TokenRepository(InventoryContext ctx, ILogger<TokenRepository> logger)
{
    private readonly ILogger<TokenRepository> _logger = logger;

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    /// <summary>The token a presented secret belongs to, or null. Reads the cache only.</summary>
    public ApiToken? Authenticate(string secret) =>
        secret.Length is > 0 and <= 256 ? ctx.Cache.TokenByHash(ApiToken.Hash(secret)) : null;

    public async Task<IReadOnlyList<ApiToken>> ListAsync(CancellationToken ct)
    {
        await ctx.EnsureReadyAsync(ct);
        return ctx.Cache.Tokens.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Creates a token; returns it with its secret, which is not stored anywhere.</summary>
    public async Task<(ApiToken Token, string Secret)> CreateAsync(string? name, TokenRole role, string actor, CancellationToken ct)
    {
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw new ValidationException("name", "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit");
        }

        await ctx.EnsureReadyAsync(ct);
        var secret = ApiToken.NewSecret();
        var token = new ApiToken { Name = name, Role = role, Sha256 = ApiToken.Hash(secret), CreatedAt = ctx.Time.GetUtcNow() };
        var txn = new TxnRequest();
        txn.Compare.Add(Txn.Absent(ctx.Keys.Token(name)));
        txn.Success.Add(Txn.Put(ctx.Keys.Token(name), InventoryJson.ToBytes(token)));
        txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, AuditActions.TokenCreate, null, null, Redacted(token))));
        var response = await ctx.Store.TxnAsync(txn, ct);
        if (!response.Succeeded)
        {
            throw new ConflictException($"a token named '{name}' exists already");
        }

        await ctx.ReadBackAsync(response.Header.Revision, ct);
        LogCreated(name, role.ToString(), actor);
        return (token, secret);
    }

    /// <summary>Deletes a token. The last admin token cannot be deleted: nobody could administer the system after.</summary>
    public async Task DeleteAsync(string name, string actor, CancellationToken ct)
    {
        await ctx.EnsureReadyAsync(ct);
        var response = await ctx.Store.GetAsync(ctx.Keys.Token(name), ct);
        if (response.Kvs.Count == 0)
        {
            throw new NotFoundException("token", name);
        }

        var token = InventoryJson.FromBytes<ApiToken>(response.Kvs[0].Value);
        var admins = await ctx.Store.GetPrefixAsync(ctx.Keys.TokensPrefix, ct);
        var adminTokens = admins.Kvs.Where(kv => InventoryJson.FromBytes<ApiToken>(kv.Value).Role == TokenRole.Admin).ToList();
        if (token.Role == TokenRole.Admin && adminTokens.Count <= 1)
        {
            throw new ConflictException($"'{name}' is the last admin token; create another admin token before deleting it");
        }

        var txn = new TxnRequest();
        txn.Compare.Add(Txn.ModRevisionIs(ctx.Keys.Token(name), response.Kvs[0].ModRevision));
        foreach (var kv in adminTokens)
        {
            txn.Compare.Add(Txn.ModRevisionIs(kv.Key.ToStringUtf8(), kv.ModRevision)); // no admin token vanished meanwhile
        }

        txn.Success.Add(Txn.Delete(ctx.Keys.Token(name)));
        txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, AuditActions.TokenDelete, null, Redacted(token), null)));
        var result = await ctx.Store.TxnAsync(txn, ct);
        if (!result.Succeeded)
        {
            throw new ConflictException("the tokens changed meanwhile; try again");
        }

        await ctx.ReadBackAsync(result.Header.Revision, ct);
    }

    private static object Redacted(ApiToken token) => new { token.Name, token.Role, token.CreatedAt };

    [LoggerMessage(EventIds.TokenCreated, LogLevel.Information, "API token {Name} ({Role}) created by {Actor}")]
    private partial void LogCreated(string name, string role, string actor);
}
