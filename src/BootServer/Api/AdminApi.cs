using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Audit;
using NekkoMetal.Inventory.Ipam;
using NekkoMetal.Inventory.Tokens;

namespace NekkoMetal.BootServer.Api;

/// <summary>The admin API, <c>/api/v1</c>: every route needs a token; changes need an admin token.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization(Policies.Read)
            .ProducesProblem(401).ProducesProblem(403).ProducesProblem(503);
        api.MapMachinesApi();

        var ipam = api.MapGroup("/ipam").WithTags("IPAM");
        ipam.MapGet("/", GetIpam).WithName("GetIpam");
        ipam.MapPut("/", SetIpam).WithName("SetIpam").RequireAuthorization(Policies.Write)
            .WithSummary("Replace the address plan; refused when a machine's address would fall outside every subnet")
            .Accepts<IpamConfig>("application/json").ProducesProblem(400).ProducesProblem(409);

        api.MapGet("/audit", QueryAudit).WithTags("Audit").WithName("QueryAudit")
            .WithSummary("Audit entries, newest first; filters: since, until (ISO 8601), serial, limit (default 100)")
            .ProducesProblem(400);

        var tokens = api.MapGroup("/tokens").WithTags("Tokens").RequireAuthorization(Policies.Write);
        tokens.MapGet("/", ListTokens).WithName("ListTokens");
        tokens.MapPost("/", CreateToken).WithName("CreateToken")
            .WithSummary("Create an API token; the secret is in this response only")
            .Accepts<TokenRequest>("application/json").ProducesProblem(400).ProducesProblem(409);
        tokens.MapDelete("/{name}", DeleteToken).WithName("DeleteToken").ProducesProblem(404).ProducesProblem(409);
        return app;
    }

    public sealed record TokenRequest(string Name, TokenRole Role);

    public sealed record TokenInfo(string Name, TokenRole Role, DateTimeOffset CreatedAt);

    public sealed record CreatedToken(string Name, TokenRole Role, DateTimeOffset CreatedAt, string Token);

    private static async Task<Ok<IpamConfig>> GetIpam(IpamRepository repo, CancellationToken ct) =>
        TypedResults.Ok(await repo.GetAsync(ct));

    private static async Task<Ok<IpamConfig>> SetIpam(HttpContext context, IpamRepository repo, CancellationToken ct)
    {
        var config = await JsonBody.ReadAsync<IpamConfig>(context.Request, ct);
        return TypedResults.Ok(await repo.SetAsync(config, MachinesApi.Actor(context), ct));
    }

    private static async Task<Ok<IReadOnlyList<AuditEntry>>> QueryAudit(HttpRequest request, AuditLog audit, CancellationToken ct)
    {
        var q = request.Query;
        foreach (var key in q.Keys)
        {
            if (key is not ("since" or "until" or "serial" or "limit"))
            {
                throw new ValidationException(key, "is not a known filter (since, until, serial, limit)");
            }
        }

        var limit = 100;
        if (q["limit"].ToString() is { Length: > 0 } l && !int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit))
        {
            throw new ValidationException("limit", "must be a whole number");
        }

        return TypedResults.Ok(await audit.QueryAsync(new AuditQuery
        {
            Since = Time(q["since"], "since"),
            Until = Time(q["until"], "until"),
            Serial = q["serial"].ToString() is { Length: > 0 } s ? s : null,
            Limit = limit,
        }, ct));
    }

    private static DateTimeOffset? Time(Microsoft.Extensions.Primitives.StringValues value, string field)
    {
        var text = value.ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : throw new ValidationException(field, "must be an ISO 8601 time such as 2026-11-25T10:00:00Z");
    }

    private static async Task<Ok<IEnumerable<TokenInfo>>> ListTokens(TokenRepository repo, CancellationToken ct) =>
        TypedResults.Ok((await repo.ListAsync(ct)).Select(t => new TokenInfo(t.Name, t.Role, t.CreatedAt)));

    private static async Task<Created<CreatedToken>> CreateToken(HttpContext context, TokenRepository repo, CancellationToken ct)
    {
        var request = await JsonBody.ReadAsync<TokenRequest>(context.Request, ct);
        var (token, secret) = await repo.CreateAsync(request.Name, request.Role, MachinesApi.Actor(context), ct);
        return TypedResults.Created($"/api/v1/tokens/{token.Name}", new CreatedToken(token.Name, token.Role, token.CreatedAt, secret));
    }

    private static async Task<NoContent> DeleteToken(string name, HttpContext context, TokenRepository repo, CancellationToken ct)
    {
        await repo.DeleteAsync(name, MachinesApi.Actor(context), ct);
        return TypedResults.NoContent();
    }
}
