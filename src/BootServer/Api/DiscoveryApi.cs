using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Auth;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.BootServer.Api;

/// <summary>
/// <c>POST /api/v1/discovery</c>: the discovery image reports the machine it runs on, authenticated by the
/// single-use bootstrap token it got on its kernel command line (not by an API token).
/// </summary>
public static class DiscoveryApi
{
    public sealed record DiscoveryResponse(string Serial, IReadOnlyList<string> Ipv4, bool Created, string Action);

    public static IEndpointRouteBuilder MapDiscoveryApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/discovery", Discover).WithTags("Discovery").WithName("Discover").AllowAnonymous()
            .WithSummary("Register (or refresh) the machine the discovery image runs on; needs the bootstrap token as Bearer")
            .Accepts<DiscoveryReport>("application/json")
            .Produces<DiscoveryResponse>(201).Produces<DiscoveryResponse>(200)
            .Produces<DiscoveryResponse>(202)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(409);

        var pending = app.MapGroup("/api/v1/discovery/pending").WithTags("Discovery").RequireAuthorization(Auth.Policies.Read)
            .ProducesProblem(401).ProducesProblem(403);
        pending.MapGet("/", async (PendingDiscoveryRepository repo, CancellationToken ct) => TypedResults.Ok(await repo.ListAsync(ct)))
            .WithName("ListPendingDiscoveries").WithSummary("Machines that reported themselves and wait for approval (auto-accept off)");
        pending.MapPost("/{serial}/accept", Accept).WithName("AcceptDiscovery").RequireAuthorization(Auth.Policies.Write)
            .WithSummary("Register a pending machine").ProducesProblem(404).ProducesProblem(409);
        pending.MapDelete("/{serial}", Reject).WithName("RejectDiscovery").RequireAuthorization(Auth.Policies.Write)
            .WithSummary("Forget a pending machine's report").ProducesProblem(404);
        return app;
    }

    private static async Task<Results<Created<DiscoveryResponse>, Ok<DiscoveryResponse>, Accepted<DiscoveryResponse>, ProblemHttpResult>> Discover(
        HttpContext context, BootstrapTokenRepository bootstrap, MachineRepository machines, BootProgressRecorder progress,
        PendingDiscoveryRepository pending, InventoryCache cache, IOptions<BootServerOptions> options, CancellationToken ct)
    {
        var report = await JsonBody.ReadAsync<DiscoveryReport>(context.Request, ct); // a bad body does not use up the token
        var secret = BearerTokenHandler.SecretOf(context.Request);
        var token = await bootstrap.ConsumeAsync(secret, BootstrapTokenRepository.Discovery, ct);
        if (token is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized",
                detail: "a valid, unused discovery bootstrap token is required (it is on the discovery kernel's command line as nekko.token)");
        }

        var known = Boot.BootEndpoints.FindMachine(cache, report.Serial, report.Uuid, report.Macs is [var first, ..] && MachineValidator.TryNormalizeMac(first, out var m) ? m : null);
        if (!options.Value.DiscoveryAutoAccept && known is null)
        {
            var held = await pending.HoldAsync(report, ct);
            return TypedResults.Accepted($"/api/v1/discovery/pending/{Uri.EscapeDataString(held.Serial)}",
                new DiscoveryResponse(held.Serial, [], false, "reboot"));
        }

        var result = await machines.DiscoverAsync(report, "discovery:" + (token.Mac ?? "unknown"), ct);
        foreach (var mac in result.Machine.Macs)
        {
            progress.Record(mac, BootStages.Discovered, result.Machine.Serial);
        }

        var response = new DiscoveryResponse(result.Machine.Serial, result.Machine.Ipv4, result.Created, result.Action);
        return result.Created
            ? TypedResults.Created($"/api/v1/machines/{Uri.EscapeDataString(result.Machine.Serial)}", response)
            : TypedResults.Ok(response);
    }

    private static async Task<Ok<DiscoveryResponse>> Accept(string serial, HttpContext context, PendingDiscoveryRepository repo, CancellationToken ct)
    {
        var result = await repo.AcceptAsync(serial, MachinesApi.Actor(context), ct);
        return TypedResults.Ok(new DiscoveryResponse(result.Machine.Serial, result.Machine.Ipv4, result.Created, "accepted"));
    }

    private static async Task<NoContent> Reject(string serial, PendingDiscoveryRepository repo, CancellationToken ct)
    {
        await repo.RejectAsync(serial, ct);
        return TypedResults.NoContent();
    }
}
